"""to_document: the shape the strict mapping accepts, built from an Article."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.elasticsearch.bootstrap import load_template
from transforms.article import Article
from transforms.sink.document import document_id, entities_field, html_to_text, iso_utc, to_document

NOW = datetime(2026, 4, 2, 9, 30, 15, 123456, tzinfo=timezone.utc)


def article(**kw) -> Article:
    base = dict(id="abc123", guid="urn:x:1", url="https://ex.test/a?utm_source=x", canonical_url="https://ex.test/a",
                title="  Leaders meet in Beijing ", feed_name="xinhua-world", feed_url="https://ex.test/feed.xml",
                source_name="Xinhua", source_domain="ex.test", agency="xinhua", text="BEIJING talks went on.\n\nMore.")
    base.update(kw)
    return Article(**base)


def mapping_paths(props: dict, prefix: str = "") -> set[str]:
    out: set[str] = set()
    for name, spec in props.items():
        out.add(prefix + name)
        if "properties" in spec:
            out |= mapping_paths(spec["properties"], f"{prefix}{name}.")
    return out


def doc_paths(value, prefix: str = "") -> set[str]:
    out: set[str] = set()
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, dict):
            for k, v in item.items():
                out.add(prefix + k)
                out |= doc_paths(v, f"{prefix}{k}.")
    return out


def test_every_field_is_in_the_mapping_and_every_mapped_field_is_produced():
    a = article(published_at="2026-04-01T08:00:00+08:00", updated_at="2026-04-01T01:00:00Z",
                first_seen_at="2026-04-01T02:00:00Z", date_source="published", summary_html="<p>A <i>b</i></p>",
                authors=["Li Wei"], categories=["World"], language="en", dateline={"location": "BEIJING",
                "date_text": "April 1"}, cleaning={"rules": [{"rule": "xinhua.enditem", "text": "Enditem"}],
                "removed_chars": 8}, content_hash="h", flags=["bozo"], entities_status="tagged",
                enclosures=[{"url": "https://ex.test/p.jpg", "type": "image/jpeg", "length": "2048"}],
                entities={"person": ["Li Wei"], "details": [{"name": "Li Wei", "type": "PERSON", "mentions": 2,
                          "first_offset": 0, "in_title": False, "salience": 0.4}]},
                story={"id": "abc123", "first_seen_at": "2026-04-01T02:00:00Z", "first_source": "Xinhua"})
    doc = to_document(a, pipeline_version="1.2.3", now=NOW)
    mapped = mapping_paths(load_template()["template"]["mappings"]["properties"])
    produced = doc_paths(doc)
    assert produced - mapped == set()
    assert mapped - produced == set()
    json.dumps(doc)  # plain JSON data


def test_dates_are_utc_and_timestamp_falls_back_to_first_seen():
    doc = to_document(article(published_at="2026-04-01T08:00:00+08:00", date_source="published"),
                      pipeline_version="v", now=NOW)
    assert doc["@timestamp"] == doc["published_at"] == "2026-04-01T00:00:00Z"
    assert doc["first_seen_at"] == doc["ingested_at"] == "2026-04-02T09:30:15Z"
    undated = to_document(article(first_seen_at="2026-03-31T23:00:00-01:00"), pipeline_version="v", now=NOW)
    assert undated["published_at"] is None
    assert undated["@timestamp"] == undated["first_seen_at"] == "2026-04-01T00:00:00Z"
    assert undated["date_source"] == "first_seen"


def test_text_fields():
    doc = to_document(article(summary_html="<p>Talks <b>resumed</b>&nbsp;today.</p><script>x()</script>"),
                      pipeline_version="v", now=NOW)
    assert doc["summary"] == "Talks resumed today."
    assert doc["title"] == "Leaders meet in Beijing"
    assert doc["body"] == "BEIJING talks went on.\n\nMore."
    assert doc["word_count"] == 5
    assert doc["pipeline"] == {"version": "v"}
    assert doc["source"] == {"name": "Xinhua", "feed_url": "https://ex.test/feed.xml", "domain": "ex.test"}


def test_html_to_text_plain_and_broken_input():
    assert html_to_text("plain   words\nhere") == "plain words here"
    assert html_to_text("") == ""
    assert html_to_text("<div><p>one</p><p>two<br>three</p>") == "one two three"
    assert html_to_text("<p>unclosed <b>bold") == "unclosed bold"
    assert html_to_text("AT&amp;T &lt;b&gt;") == "AT&T <b>"


def test_entities_facets_from_details_and_aliases():
    ents = entities_field({"gpe": ["Beijing"], "org": ["United Nations", "United Nations"],
                           "details": [{"name": "Xi Jinping", "type": "PERSON", "mentions": 3},
                                       {"name": "Paris", "label": "GPE", "mentions": 1},
                                       {"name": "Monday", "type": "DATE"}]})
    assert ents["location"] == ["Beijing", "Paris"]
    assert ents["org"] == ["United Nations"]
    assert ents["person"] == ["Xi Jinping"]
    assert [d["name"] for d in ents["details"]] == ["Xi Jinping", "Paris", "Monday"]
    assert ents["details"][1] == {"name": "Paris", "type": "GPE", "mentions": 1, "first_offset": None,
                                  "in_title": False, "salience": None}
    assert entities_field(None)["details"] == []


def test_iso_utc():
    assert iso_utc("2026-01-01T00:00:00Z") == "2026-01-01T00:00:00Z"
    assert iso_utc("2026-01-01T00:00:00") == "2026-01-01T00:00:00Z"
    assert iso_utc(datetime(2026, 1, 1, 5, tzinfo=timezone(timedelta(hours=5)))) == "2026-01-01T00:00:00Z"
    assert iso_utc(None) is None
    with pytest.raises(ValueError):
        iso_utc("yesterday")


def test_document_id_is_the_article_id():
    assert document_id(article()) == "abc123"
    with pytest.raises(ValueError):
        document_id(article(id=""))


def test_a_date_that_does_not_parse_is_flagged_not_fatal():
    doc = to_document(article(published_at="Mon, 32 Foo 2026", flags=["bozo"]), pipeline_version="v", now=NOW)
    assert doc["published_at"] is None
    assert doc["@timestamp"] == doc["first_seen_at"] == "2026-04-02T09:30:15Z"
    assert doc["flags"] == ["bozo", "invalid_published_at"]


def test_story_fields_mark_the_first_copy_and_are_absent_without_the_story_stage():
    first = to_document(article(story={"id": "abc123", "first_seen_at": "2026-04-01T10:00:00+08:00",
                                       "first_source": "Xinhua"}), pipeline_version="1", now=NOW)
    assert first["story"] == {"id": "abc123", "first_seen_at": "2026-04-01T02:00:00Z", "first_source": "Xinhua",
                              "first": True}
    copy = to_document(article(id="other", story={"id": "abc123", "first_seen_at": "2026-04-01T02:00:00Z",
                                                  "first_source": "Xinhua"}), pipeline_version="1", now=NOW)
    assert copy["story"]["id"] == "abc123" and copy["story"]["first"] is False
    assert to_document(article(), pipeline_version="1", now=NOW)["story"] is None
