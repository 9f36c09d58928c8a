"""The index stage in a Beam pipeline against the real local Elasticsearch."""

from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipeline.elasticsearch.bootstrap import bootstrap, ensure_aux_indices
from transforms.article import Article
from transforms.sink.index import SkipUnchanged, WriteToElasticsearch

pytestmark = pytest.mark.integration


def make_article(i: int, *, text: str | None = None, feed: str = "feed-a") -> Article:
    body = text if text is not None else f"Story number {i} about the United Nations."
    return Article(
        id=f"id-{i}", guid=f"urn:story:{i}", url=f"http://127.0.0.1/story/{i}",
        canonical_url=f"http://127.0.0.1/story/{i}", title=f"Story {i}",
        summary_html=f"<p>Summary <b>{i}</b></p>", published_at="2026-03-01T12:00:00Z",
        first_seen_at="2026-03-01T12:05:00Z", date_source="published", feed_name=feed,
        source_name="Test Wire", text=body, content_hash=f"hash-{hash(body) & 0xFFFFFFFF:x}")


def counters(result, namespace: str) -> dict[str, int]:
    found = result.metrics().query(MetricsFilter().with_namespace(namespace))["counters"]
    totals: dict[str, int] = {}
    for c in found:  # the same counter may be reported by several steps
        totals[c.key.metric.name] = totals.get(c.key.metric.name, 0) + c.committed
    return totals


def run_write(settings, articles, *, version: str = "test") -> tuple[dict[str, int], dict[str, int]]:
    p = TestPipeline(runner=FnApiRunner())
    _ = p | beam.Create(articles) | WriteToElasticsearch(settings, pipeline_version=version)
    result = p.run()
    result.wait_until_finish()
    [latency] = result.metrics().query(MetricsFilter().with_name("bulk_latency_ms"))["distributions"]
    assert latency.committed.count >= 1 and latency.committed.min >= 0
    return counters(result, "wirenews"), counters(result, "wirenews.feed.feed-a")


def test_exactly_once_over_reruns(es_settings, es_client):
    bootstrap(es_client, es_settings.index)
    ensure_aux_indices(es_client, es_settings)
    articles = [make_article(i) for i in range(30)]
    first, per_feed = run_write(es_settings, articles)
    assert first.get("articles_new") == 30 and first.get("articles_updated", 0) == 0
    assert per_feed.get("new") == 30
    second, per_feed = run_write(es_settings, articles)
    assert second.get("articles_new", 0) == 0 and second.get("articles_updated") == 30
    assert per_feed.get("updated") == 30
    es_client.indices.refresh(index=es_settings.index)
    assert es_client.count(index=es_settings.index)["count"] == 30
    ids = {h["_id"] for h in es_client.search(index=es_settings.index, size=100)["hits"]["hits"]}
    assert ids == {a.id for a in articles}


def test_mapping_violation_is_dead_lettered_and_the_rest_lands(es_settings, es_client, tmp_path):
    bootstrap(es_client, es_settings.index)
    ensure_aux_indices(es_client, es_settings)
    good = [make_article(i) for i in range(5)]
    bad_doc = {"title": "wrong", "word_count": "not a number", "@timestamp": "2026-03-01T00:00:00Z"}
    no_id = make_article(77)
    no_id.id = ""
    elements = good + [("bad-1", bad_doc, "feed-a"), no_id]
    p = TestPipeline(runner=FnApiRunner())
    dead = (p | beam.Create(elements)
            | WriteToElasticsearch(es_settings, pipeline_version="test", deadletter_path=str(tmp_path / "dl.ndjson")))
    assert_that(dead | beam.Map(lambda r: (r["doc_id"], r["error"]["type"], r["document"].get("title"))),
                equal_to([("bad-1", "document_parsing_exception", "wrong"), ("", "invalid_article", "Story 77")]))
    result = p.run()
    result.wait_until_finish()
    assert counters(result, "wirenews").get("articles_dead_lettered") == 2
    assert counters(result, "wirenews.feed.feed-a").get("dead_lettered") == 2
    es_client.indices.refresh(index=[es_settings.index, es_settings.deadletter_index])
    assert es_client.count(index=es_settings.index)["count"] == 5
    hits = es_client.search(index=es_settings.deadletter_index, sort="doc_id:desc")["hits"]["hits"]
    assert len(hits) == 2
    rec = hits[0]["_source"]
    assert rec["doc_id"] == "bad-1" and rec["document"] == bad_doc
    assert "word_count" in rec["error"]["reason"] and rec["error"]["status"] == 400
    assert hits[1]["_source"]["error"]["type"] == "invalid_article"
    assert not (tmp_path / "dl.ndjson").exists()


def test_skip_unchanged_keeps_first_seen_and_skips_same_hash(es_settings, es_client):
    bootstrap(es_client, es_settings.index)
    stored = [make_article(i) for i in range(6)]
    run_write(es_settings, stored)
    later = [make_article(i, text=f"Story number {i}, corrected." if i < 2 else None) for i in range(6)]
    later.append(make_article(99))
    for a in later:
        a.first_seen_at = "2026-03-02T00:00:00Z"  # what a fresh run says
    p = TestPipeline(runner=FnApiRunner())
    out = p | beam.Create(later) | SkipUnchanged(es_settings, batch_size=4)
    assert_that(out | beam.Map(lambda a: (a.id, a.first_seen_at)),
                equal_to([("id-0", "2026-03-01T12:05:00Z"), ("id-1", "2026-03-01T12:05:00Z"),
                          ("id-99", "2026-03-02T00:00:00Z")]))
    result = p.run()
    result.wait_until_finish()
    assert counters(result, "wirenews").get("articles_unchanged") == 4
    assert counters(result, "wirenews.feed.feed-a").get("articles_unchanged") == 4


def test_skip_unchanged_before_bootstrap_passes_everything(es_settings):
    p = TestPipeline(runner=FnApiRunner())
    out = p | beam.Create([make_article(1), make_article(2)]) | SkipUnchanged(es_settings)
    assert_that(out | beam.Map(lambda a: a.id), equal_to(["id-1", "id-2"]))
    p.run().wait_until_finish()
