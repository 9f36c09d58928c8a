"""The feed state as the stream's schedule (claims) and as the run's proof (a commit only for stories that
reached the index), against the real Elasticsearch."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from transforms.sources.feed_state import (
    CLAIM_FIELD,
    FeedStateStore,
    Slot,
    StoriesMissing,
    due_at,
    initial_state,
    on_failure,
    on_success,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def store(es_client, es_settings) -> FeedStateStore:
    s = FeedStateStore(es_client, es_settings.state_index)
    s.ensure_index()
    return s


def test_a_feed_is_due_at_the_later_of_its_schedule_and_a_claim():
    assert due_at(None) == 0.0 and due_at({}) == 0.0
    doc = on_success(initial_state("a", "http://x/a"), NOW, 300, changed=False).to_doc()
    assert due_at(doc) == (NOW + timedelta(seconds=300)).timestamp()
    assert due_at(doc | {CLAIM_FIELD: "2026-03-01T12:10:00Z"}) == (NOW + timedelta(minutes=10)).timestamp()
    backing_off = on_failure(initial_state("b", "http://x/b"), NOW, 60, "timeout", "slow").to_doc()
    assert due_at(backing_off | {CLAIM_FIELD: "2026-03-01T12:00:30Z"}) == (NOW + timedelta(seconds=60)).timestamp()


def test_of_two_pollers_that_read_the_same_schedule_one_claims_each_feed(store):
    store.put(on_success(initial_state("known", "http://x/k"), NOW, 60, changed=False))
    names = ["known", "new"]
    first, second = store.slots(names), store.slots(names)  # two pollers, one read each
    assert first["new"] == Slot() and first["known"].seq_no is not None
    until = NOW + timedelta(seconds=60)
    claims = [("known", "http://x/k", until), ("new", "http://x/n", until)]
    assert store.claim(claims, first) == {"known", "new"}
    assert store.claim(claims, second) == set()  # the versions it read are gone
    after = store.slots(names)
    assert after["known"].due_at == after["new"].due_at == until.timestamp()
    # The claim rides along in the document; the state stays readable, and a new feed's poll starts afresh.
    assert store.get("new").url == "http://x/n" and store.get("new").etag is None
    # A poll's own state write replaces the claim: its schedule is the feed's again.
    store.put(on_success(store.get("known"), NOW + timedelta(seconds=61), 60, changed=False))
    assert store.slots(["known"])["known"].due_at == (NOW + timedelta(seconds=121)).timestamp()


def test_a_commit_leaves_pending_the_feeds_whose_stories_did_not_reach_the_index(store, es_client, es_settings):
    a = on_success(initial_state("a", "http://x/a"), NOW, 300, changed=True, etag='"a2"')
    b = on_success(initial_state("b", "http://x/b"), NOW, 300, changed=True, etag='"b2"')
    store.put(a, pending=True, article_ids=["a-1", "a-2"])
    store.put(b, pending=True, article_ids=["b-1", "b-2"])
    asked: list[list[str]] = []

    def reached(ids: list[str]) -> set[str]:
        asked.append(ids)
        return {"a-1", "a-2", "b-1"}  # b-2 was lost on the way

    with pytest.raises(StoriesMissing) as caught:
        store.commit_pending(reached=reached)
    assert asked == [["a-1", "a-2", "b-1", "b-2"]]
    assert caught.value.held == {"b": 1} and caught.value.committed == 1 and "b (1)" in str(caught.value)
    assert store.get("a") == a and store.get("b") is None  # b's stories are read again next time
    es_client.indices.refresh(index=es_settings.state_index)
    assert es_client.count(index=es_settings.state_index, query={"term": {"pending": True}})["count"] == 1
    assert store.commit_pending(reached=lambda ids: set(ids)) == 1 and store.get("b") == b

