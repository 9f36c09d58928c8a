"""A wire story's versions on its one document: newer versions replace it, older ones never do, kills mark it."""

from __future__ import annotations

import pytest

from pipeline.elasticsearch.bootstrap import bootstrap
from transforms.article import Article
from transforms.sink.bulk import ElasticsearchSink, IndexRequest, encode
from transforms.sink.index import select_changed, stale_version, to_request

V1, V2, V3 = 100_000_000_000 + 50, 200_000_000_000 + 60, 300_000_000_000 + 70


def story(key: int, *, status: str = "usable", text: str | None = None, keys: list[int] | None = None) -> Article:
    body = text or f"Version {key} of the story."
    return Article(id="story-1", guid="urn:x:story-1", url="", canonical_url="", title=f"Title {key}",
                   feed_name="wire", text=body, content_hash=f"h-{key}-{status}-{body}",
                   first_seen_at="2026-03-04T10:00:00Z",
                   wire={"uri": "urn:x:story-1", "version_key": key, "version_keys": keys or [key], "status": status})


def test_a_versioned_request_asks_for_external_versioning():
    action = encode(to_request(story(V2), "1")).payload.split(b"\n")[0]
    assert action == b'{"index": {"_id": "story-1", "version": 200000000060, "version_type": "external_gte"}}'
    plain = encode(IndexRequest("a", {"x": 1})).payload.split(b"\n")[0]
    assert plain == b'{"index":{"_id":"a"}}'


def test_select_changed_drops_older_versions_and_counts_versions():
    stored = {"story-1": {"content_hash": "old", "first_seen_at": "2026-03-04T09:00:00Z",
                          "wire": {"version_key": V2, "version_keys": [V1, V2]}}}
    assert select_changed([story(V1)], stored) == [None] and stale_version(story(V1), stored["story-1"])
    [newer] = select_changed([story(V3)], stored)
    assert newer.wire["version_keys"] == [V1, V2, V3] and newer.first_seen_at == "2026-03-04T09:00:00Z"
    [same] = select_changed([story(V2, text="Reworded without a new version.")], stored)
    assert same is not None and not stale_version(same, stored["story-1"])  # the same version, new words


@pytest.mark.integration
def test_the_index_keeps_the_newest_version_whatever_the_order(es_settings, es_client, tmp_path):
    bootstrap(es_client, es_settings.index)
    sink = ElasticsearchSink(es_client, es_settings.index, deadletter_path=str(tmp_path / "dl.ndjson"),
                             concurrency=1)
    report = sink.write([to_request(story(V2, keys=[V1, V2]), "1")])
    assert len(report.created) == 1
    late = sink.write([to_request(story(V1), "1")])  # version 1 arrives after version 2
    assert len(late.stale) == 1 and not late.created and not late.updated and not late.dead_letters
    doc = es_client.get(index=es_settings.index, id="story-1")
    assert doc["_source"]["title"] == f"Title {V2}" and doc["_source"]["wire"]["versions"] == 2
    again = sink.write([to_request(story(V2, keys=[V1, V2]), "1")])  # a re-run writes the same version again
    assert len(again.updated) == 1
    kill = sink.write([to_request(story(V3, status="canceled", keys=[V1, V2, V3]), "1")])
    assert len(kill.updated) == 1
    killed = es_client.get(index=es_settings.index, id="story-1")["_source"]
    assert killed["withdrawn"] is True and killed["wire"]["status"] == "canceled" and killed["wire"]["versions"] == 3
    assert not (tmp_path / "dl.ndjson").exists()
