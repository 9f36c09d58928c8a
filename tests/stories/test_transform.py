"""AssignStories in a Beam pipeline on the local runner, one worker and two, against the real Elasticsearch."""

from __future__ import annotations

import random

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that

from tests.stories import testset
from transforms.article import Article
from transforms.cleaning import Cleaner, clean_article
from transforms.stories import AssignStories

pytestmark = pytest.mark.integration

KEYS = ("who-malaria", "nk-ballistic", "nk-cruise", "earn-harbor", "earn-harbor-q4")


def articles(per_story: int = 3) -> tuple[list[Article], dict[str, str]]:
    """Originals and portal copies of a few stories (look-alikes among them), cleaned; id -> story key."""
    wanted = [s for s in testset.stories() if s.key in KEYS]
    rng = random.Random(5)
    items = []
    for story in wanted:
        items.append(testset.original(story))
        items += testset.copies(story, rng, per_story)
    cleaner = Cleaner.from_dir()
    out, truth = [], {}
    for n, item in enumerate(items):
        art = Article(id=item.id, guid=item.id, url="", canonical_url="", title=item.title, content_html=item.raw,
                      agency=item.agency, source_domain=item.domain, source_name=item.domain,
                      first_seen_at=f"2026-03-01T10:{n:02d}:00Z")
        out.append(clean_article(art, cleaner))
        truth[item.id] = item.story
    return out, truth


def check(truth: dict[str, str]):
    def _check(placed: list[Article]) -> None:
        assert len(placed) == len(truth)
        story_of = {a.id: a.story["id"] for a in placed}
        for a in placed:
            for b in placed:
                same = truth[a.id] == truth[b.id]
                assert (story_of[a.id] == story_of[b.id]) == same, (a.id, b.id, story_of[a.id], story_of[b.id])
        for a in placed:
            assert a.story["first_seen_at"] and a.story["first_source"]
    return _check


@pytest.mark.parametrize("workers", [1, 2])
def test_copies_share_a_story_and_look_alikes_do_not(es_settings, workers):
    arts, truth = articles()
    options = PipelineOptions(["--runner=DirectRunner", f"--direct_num_workers={workers}",
                               "--direct_running_mode=" + ("multi_processing" if workers > 1 else "in_memory")])
    with TestPipeline(options=options, blocking=True) as p:
        placed = (p | beam.Create(arts, reshuffle=workers > 1)
                  | AssignStories(es_settings, batch_size=4))
        assert_that(placed, check(truth))
