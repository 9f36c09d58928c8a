"""TagEntities inside a Beam pipeline: batching, flushing, timestamps and windows kept per element."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.test_pipeline import TestPipeline as BeamPipeline
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import FixedWindows, TimestampedValue

from transforms.article import Article
from transforms.entities.transform import TagEntities

TEXTS = [
    ("IMF mission", "An IMF team arrived in Nairobi on Monday to review Kenya's loan programme."),
    ("NATO summit", "NATO leaders met in Brussels, where Jens Stoltenberg spoke about Ukraine."),
    ("Hilfen", "Die Bundesregierung hat am Mittwoch in Berlin neue Hilfen für Bauern beschlossen."),
    ("Trade talks", "Officials from Japan and the EU resumed trade talks in Tokyo."),
    ("Rains", "Heavy rains flooded parts of Dhaka, Bangladesh's capital, officials said."),
]


def articles() -> list[Article]:
    return [
        Article(id=f"a{i}", guid=f"g{i}", url=f"http://x/{i}", canonical_url=f"http://x/{i}", title=title, text=text)
        for i, (title, text) in enumerate(TEXTS)
    ]


def describe(article: Article, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam):
    return (
        article.id,
        int(timestamp.micros // 1_000_000),
        int(window.start),
        article.entities_status,
        tuple(article.entities.get("location", ())),
    )


def test_tag_entities_keeps_each_elements_timestamp_and_window():
    # Timestamps 0, 25, 50, ... in 60-second windows: elements of one batch sit in different windows.
    stamped = [TimestampedValue(a, 25 * i) for i, a in enumerate(articles())]
    with BeamPipeline(runner=FnApiRunner()) as p:
        out = (
            p
            | beam.Create(stamped)
            | beam.WindowInto(FixedWindows(60))
            | beam.ParDo(TagEntities(batch_size=2))
            | beam.Map(describe)
        )
        got = out | "ids" >> beam.Map(lambda row: row[:4])
        assert_that(
            got,
            equal_to(
                [
                    ("a0", 0, 0, "tagged"),
                    ("a1", 25, 0, "tagged"),
                    ("a2", 50, 0, "skipped: language de has no model"),
                    ("a3", 75, 60, "tagged"),
                    ("a4", 100, 60, "tagged"),
                ]
            ),
        )
        places = out | "places" >> beam.Map(lambda row: (row[0], set(row[4])))
        assert_that(
            places | beam.Filter(lambda r: r[0] in ("a0", "a4")),
            equal_to([("a0", {"Nairobi", "Kenya"}), ("a4", {"Dhaka", "Bangladesh"})]),
            label="places",
        )
