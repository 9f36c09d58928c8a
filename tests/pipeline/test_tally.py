"""The summary's counts read back from Elasticsearch, for a runner that reports no metrics."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pipeline.elasticsearch.bootstrap import bootstrap, ensure_aux_indices
from pipeline.elasticsearch.tally import tally_with
from pipeline.summary import summarize
from transforms.sources import FeedStateStore
from transforms.sources.feed_state import initial_state, on_failure, on_success


def test_a_runs_feeds_stories_and_dead_letters_are_counted_from_what_it_wrote(es_client, es_settings):
    bootstrap(es_client, es_settings.index)
    ensure_aux_indices(es_client, es_settings)
    store = FeedStateStore(es_client, es_settings.state_index)
    store.ensure_index()
    since = datetime.now(timezone.utc)
    before, during = since - timedelta(hours=1), since + timedelta(seconds=1)
    iso = {t: t.isoformat().replace("+00:00", "Z") for t in (before, during)}
    # Feed a: fetched in this run, passing on a new story, an updated one and one that was dead-lettered.
    store.put(on_success(initial_state("a", "http://x/a"), during, 300, changed=True), pending=True,
              article_ids=["new-1", "upd-1", "dead-1"])
    # Feed b: answered 304 in this run; feed c: failed; feed d: last polled before the run.
    store.put(on_success(initial_state("b", "http://x/b"), during, 300, changed=False))
    store.put(on_failure(initial_state("c", "http://x/c"), during, 300, "timeout", "slow"))
    store.put(on_success(initial_state("d", "http://x/d"), before, 300, changed=False))
    es_client.index(index=es_settings.index, id="new-1", document={"ingested_at": iso[during],
                                                                   "first_seen_at": iso[during]})
    es_client.index(index=es_settings.index, id="upd-1", document={"ingested_at": iso[during],
                                                                   "first_seen_at": iso[before]})
    es_client.index(index=es_settings.deadletter_index, id="dead-1:1",
                    document={"doc_id": "dead-1", "feed": "a", "@timestamp": iso[during]})
    es_client.index(index=es_settings.deadletter_index, id="old:1",
                    document={"doc_id": "old", "feed": "d", "@timestamp": iso[before]})

    counters = tally_with(es_client, es_settings.index, es_settings.state_index, es_settings.deadletter_index,
                          since)
    summary = summarize({}, ["a", "b", "c", "d"], counters).to_json()
    assert summary["feeds"] == {"fetched": 1, "unchanged": 1, "failed": 1, "skipped": 0}
    assert summary["articles"] | {"parsed": 0} == {"parsed": 0, "new": 1, "updated": 1, "unchanged": 0,
                                                   "dead_lettered": 1}
    assert summary["per_feed"] == {"a": {"fetched": 1, "new": 1, "updated": 1, "dead_lettered": 1},
                                   "b": {"unchanged": 1}, "c": {"failed": 1}, "d": {}}
