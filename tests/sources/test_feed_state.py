"""Feed state rules (pure) and its Elasticsearch store (real local node)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from elastic_transport import ConnectionError as TransportConnectionError

from transforms.sources.dates import parse_iso
from transforms.sources.feed_state import (
    BACKOFF_CAP,
    FeedState,
    FeedStateError,
    FeedStateStore,
    backoff_seconds,
    fetch_url,
    for_feed,
    initial_state,
    is_backing_off,
    is_due,
    on_failure,
    on_success,
)

NOW = datetime(2026, 11, 29, 6, 0, tzinfo=timezone.utc)


def _wait(state: FeedState) -> float:
    return (parse_iso(state.next_poll_at) - NOW).total_seconds()


def test_success_keeps_validators_and_resets_failures():
    s = on_failure(initial_state("f", "http://x/f"), NOW, 300, "timeout", "slow")
    s = on_success(s, NOW, 300, changed=True, etag='"e"', last_modified="Sat, 28 Nov 2026 08:00:00 GMT",
                   body_hash="h", permanent_url="http://y/f")
    assert (s.etag, s.last_modified, s.body_hash, s.permanent_url) == ('"e"', "Sat, 28 Nov 2026 08:00:00 GMT", "h",
                                                                       "http://y/f")
    assert s.consecutive_failures == 0 and s.last_error_kind is None and s.last_status == "fetched"
    assert s.last_success_at == "2026-11-29T06:00:00Z" and _wait(s) == 300
    assert fetch_url(s) == "http://y/f"
    # a 304 keeps the validators it had
    s2 = on_success(s, NOW, 300, changed=False)
    assert s2.etag == '"e"' and s2.body_hash == "h" and s2.last_status == "unchanged"


def test_failures_back_off_exponentially_with_jitter_and_a_cap():
    rng = random.Random(7)
    s = initial_state("f", "http://x/f")
    waits = []
    for _ in range(12):
        s = on_failure(s, NOW, 60, "connect", "refused", rng=rng)
        waits.append(_wait(s))
    assert s.consecutive_failures == 12 and s.last_error_kind == "connect"
    assert waits[0] >= 60  # never sooner than the feed's own interval
    assert waits[6] > waits[2] * 4  # grows roughly doubling
    assert max(waits) <= BACKOFF_CAP
    assert is_backing_off(s, NOW) and not is_backing_off(s, NOW + timedelta(seconds=BACKOFF_CAP + 1))
    spread = {round(backoff_seconds(5, random.Random(i))) for i in range(20)}
    assert len(spread) > 10  # jitter spreads feeds out
    assert all(480 <= w <= 960 for w in spread)


def test_retry_after_wins_when_longer():
    s = on_failure(initial_state("f", "u"), NOW, 60, "http_status", "429", retry_after=7200, rng=random.Random(1))
    assert _wait(s) == 7200
    s = on_failure(initial_state("f", "u"), NOW, 600, "http_status", "503", retry_after=5, rng=random.Random(1))
    assert _wait(s) == 600


def test_a_healthy_feed_is_never_backing_off_but_has_a_schedule():
    s = on_success(initial_state("f", "u"), NOW, 300, changed=True)
    assert not is_backing_off(s, NOW)
    assert not is_due(s, NOW) and is_due(s, NOW + timedelta(seconds=300))


def test_a_changed_config_url_starts_afresh():
    s = on_success(initial_state("f", "http://old/f"), NOW, 300, changed=True, etag="e")
    assert for_feed(s, "f", "http://old/f") is s
    fresh = for_feed(s, "f", "http://new/f")
    assert fresh.url == "http://new/f" and fresh.etag is None
    assert for_feed(None, "f", "u").name == "f"


def test_doc_round_trip_ignores_unknown_fields():
    s = on_success(initial_state("f", "u"), NOW, 300, changed=True, file_hashes={"/a.xml": "h"},
                   entry_hashes={"id1": "e1"})
    doc = s.to_doc() | {"from_a_newer_version": 1}
    assert doc["file_hashes"] == [{"path": "/a.xml", "sha256": "h"}]
    assert doc["entry_hashes"] == [{"id": "id1", "hash": "e1"}]
    assert FeedState.from_doc(doc) == s


def test_store_round_trip_in_elasticsearch(es_client, es_settings):
    store = FeedStateStore(es_client, es_settings.state_index)
    assert store.load_all() == {}
    store.ensure_index()
    store.ensure_index()  # idempotent
    assert store.get("nope") is None
    a = on_success(initial_state("a", "http://x/a"), NOW, 300, changed=True, etag='"1"', body_hash="h",
                   file_hashes={"/drop/a.b.xml": "1", "/drop/c.xml": "2"})
    b = on_failure(initial_state("b", "http://x/b"), NOW, 300, "dns", "no such host")
    store.put(a)
    store.put(b)
    assert store.get("a") == a and store.get("b") == b
    es_client.indices.refresh(index=es_settings.state_index)
    assert store.load_all() == {"a": a, "b": b}
    newer = on_success(a, NOW, 300, changed=True, etag='"2"')
    store.put(newer, pending=True)
    es_client.indices.refresh(index=es_settings.state_index)
    assert store.get("a") == a and store.load_all() == {"a": a, "b": b}
    assert store.commit_pending() == 1 and store.get("a") == newer
    mapping = es_client.indices.get_mapping(index=es_settings.state_index)[es_settings.state_index]["mappings"]
    assert mapping["properties"]["next_poll_at"]["type"] == "date"


def test_commit_makes_every_pending_state_current_and_drops_the_pending_documents(es_client, es_settings):
    store = FeedStateStore(es_client, es_settings.state_index)
    store.ensure_index()
    states = [on_success(initial_state(f"f{i}", f"http://x/{i}"), NOW, 300, changed=True, etag=f'"{i}"')
              for i in range(30)]
    for state in states:
        store.put(state, pending=True)
    assert store.commit_pending() == 30
    es_client.indices.refresh(index=es_settings.state_index)
    assert store.load_all() == {s.name: s for s in states}
    assert es_client.count(index=es_settings.state_index)["count"] == 30  # no pending document left
    assert store.commit_pending() == 0


def test_a_refused_state_write_raises_naming_the_feed(es_client, es_settings):
    store = FeedStateStore(es_client, es_settings.state_index)
    store.ensure_index()
    es_client.indices.put_settings(index=es_settings.state_index, settings={"index.blocks.write": True})
    try:
        with pytest.raises(FeedStateError, match="xinhua-world"):
            store.put(initial_state("xinhua-world", "http://x/w"))
    finally:
        es_client.indices.put_settings(index=es_settings.state_index, settings={"index.blocks.write": False})


class _FlakyBulk:
    """A client whose bulk answers come from a script: an exception to raise, or per-item statuses."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def bulk(self, operations):
        self.calls.append(operations)
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, Exception):
            raise answer
        items = [{next(iter(op)): {"_id": op[next(iter(op))]["_id"], "status": answer,
                                   **({"error": {"reason": f"status {answer}"}} if answer >= 400 else {})}}
                 for op in operations if next(iter(op)) in ("index", "delete")]
        return {"errors": answer >= 400, "items": items}


def _flaky_store(*answers, max_retries=3):
    waits = []
    client = _FlakyBulk(*answers)
    return FeedStateStore(client, "state", max_retries=max_retries, sleep=waits.append), client, waits


def test_a_busy_or_unreachable_cluster_is_waited_out_before_a_state_write_fails():
    store, client, waits = _flaky_store(TransportConnectionError("reset"), 429, 503)
    store.put_current([initial_state("a", "http://x/a"), initial_state("b", "http://x/b")])
    assert len(client.calls) == 4 and len(waits) == 3 and all(w > 0 for w in waits)
    assert client.calls[-1] == client.calls[0]  # every (idempotent) operation sent again

    store, client, waits = _flaky_store(429, 429, 429, 429, max_retries=3)
    with pytest.raises(FeedStateError, match="not written after 3 retries"):
        store.put_current([initial_state("a", "http://x/a")])
    assert len(client.calls) == 4

    store, client, waits = _flaky_store(503)  # a poll's own write: one attempt, the feed is read again
    with pytest.raises(FeedStateError, match="after 0 retries"):
        store.put(initial_state("a", "http://x/a"))
    assert len(client.calls) == 1 and not waits


def test_a_state_write_the_cluster_refuses_fails_at_once_naming_the_feed():
    store, client, waits = _flaky_store(400)
    with pytest.raises(FeedStateError, match="refused: reuters-world"):
        store.put_current([initial_state("reuters-world", "http://x/r")])
    assert len(client.calls) == 1 and not waits


def test_a_moved_address_that_keeps_failing_is_given_up():
    s = on_success(initial_state("f", "http://old/f"), NOW, 300, changed=True, permanent_url="http://new/f")
    s = on_failure(s, NOW, 300, "http_status", "404")
    assert fetch_url(s) == "http://new/f"
    s = on_failure(on_failure(s, NOW, 300, "http_status", "404"), NOW, 300, "http_status", "404")
    assert fetch_url(s) == "http://old/f" and s.permanent_url is None
