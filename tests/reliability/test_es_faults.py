"""`wirenews run` against Elasticsearch behind a fault proxy: every article lands exactly once.

The demo's 45 stories (20 feeds on a loopback server) go through the whole pipeline as a subprocess,
with small bulk batches so a run sends many of them. The proxy cuts the node away mid-run and brings
it back, answers slower than the client's timeout, answers 429 or 503 on a share of the requests, or
resets connections before and after forwarding. Afterwards the index is read directly: every story
once, no copies, nothing dead-lettered (no document here is refused by the mapping), no feed state
left pending. The shared node is never stopped.
"""

from __future__ import annotations

import pytest

from tests.faultproxy import BULK, Fault, FaultProxy
from tests.reliability.conftest import (
    EXPECTED_STORIES,
    Row,
    feed_states,
    record,
    sample_feeds,
    stored,
    summary,
    wirenews,
    write_config,
)

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.reliability]

EXPECTED = set(EXPECTED_STORIES)
BULK_DOCS = 5  # 45 stories -> at least 9 bulk requests


def check_complete(es_client, alias: str, tmp_path, n_feeds: int) -> tuple[int, int, int]:
    """Every story once, nothing dead-lettered, feed state committed for every feed; the figures."""
    got = stored(es_client, alias, tmp_path / "deadletter.ndjson")
    assert got.missing(EXPECTED) == set()
    assert got.duplicated == 0
    assert set(got.guids) == EXPECTED
    assert got.dead_lettered == 0
    committed, pending = feed_states(es_client, alias)
    assert pending == []
    assert len(committed) <= n_feeds
    return got.indexed(EXPECTED), got.duplicated, got.dead_lettered


SCENARIOS = {
    "429 on every 4th bulk/mget request, per-item 429 on 40% of the items of every 3rd bulk": dict(
        faults=[Fault("status", status=429, every=4), Fault("items_429", path=BULK, every=3, item_share=0.4)],
        es={"max_retries": 10}),
    "503 on every 3rd bulk/mget request": dict(faults=[Fault("status", status=503, every=3)], es={"max_retries": 10}),
    # The client's timeout is the run's one request timeout, bootstrap included: 5 s leaves room for a busy node.
    "slow: 2 bulks answered after 7 s, client timeout 5 s (the write lands, the answer is lost)": dict(
        faults=[Fault("slow", path=BULK, every=3, limit=2, seconds=7.0)], es={"request_timeout": 5, "max_retries": 10}),
    "connection reset before forwarding (every 5th request) and after the write (every 4th bulk)": dict(
        faults=[Fault("reset_before", every=5), Fault("reset_after", path=BULK, every=4)],
        es={"max_retries": 10}),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_faults_on_a_share_of_requests_lose_and_double_nothing(name, tmp_path, sample_server, es_url, es_settings,
                                                               es_client, clock):
    spec = SCENARIOS[name]
    feeds = sample_feeds(sample_server.port)
    with FaultProxy(es_url, spec["faults"]) as proxy:
        cfg = write_config(tmp_path / "c.yaml", [proxy.url], es_settings.index, feeds,
                           es={"bulk_max_docs": BULK_DOCS, **spec["es"]})
        res = wirenews(tmp_path, "run", "-c", str(cfg), "--summary-json", str(tmp_path / "s.json"))
        fired = sum(proxy.stats.faults.values())
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-5000:]
    assert fired > 0, "the proxy injected nothing: the scenario did not happen"
    assert summary(tmp_path / "s.json")["feeds"]["failed"] == 0
    indexed, dup, dead = check_complete(es_client, es_settings.index, tmp_path, len(feeds))
    record(Row(f"ES: {name}", len(EXPECTED), indexed, dup, dead, clock.seconds,
               f"exit 0; {fired} faults injected"))


def test_node_gone_mid_run_and_back(tmp_path, sample_server, es_url, es_settings, es_client, clock):
    """The node disappears after the 2nd bulk (that answer is lost too) and is back 4 s later."""
    feeds = sample_feeds(sample_server.port)
    with FaultProxy(es_url) as proxy:
        proxy.cut_after(2, seconds=4.0, pattern=rf"/{es_settings.index}/_bulk")
        cfg = write_config(tmp_path / "c.yaml", [proxy.url], es_settings.index, feeds,
                           es={"bulk_max_docs": BULK_DOCS})
        res = wirenews(tmp_path, "run", "-c", str(cfg), "--summary-json", str(tmp_path / "s.json"))
        assert proxy.stats.cuts == 1
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-5000:]
    totals = summary(tmp_path / "s.json")["totals"]
    # The article writes, and the story step's lookups and writes when the outage caught them too.
    retried = totals.get("articles_retried", 0) + totals.get("story_requests_retried", 0)
    assert retried > 0, "no write was retried: the outage missed the writes"
    indexed, dup, dead = check_complete(es_client, es_settings.index, tmp_path, len(feeds))
    committed, _ = feed_states(es_client, es_settings.index)
    assert set(committed) == {f["name"] for f in feeds}
    record(Row("ES: node gone after the 2nd bulk, back 4 s later", len(EXPECTED), indexed, dup, dead,
               clock.seconds, f"exit 0; {retried} article writes retried"))


def test_outage_beyond_the_retry_budget_fails_loudly_and_a_rerun_completes(tmp_path, sample_server, es_url,
                                                                          es_settings, es_client, clock):
    feeds = sample_feeds(sample_server.port)
    alias = es_settings.index
    with FaultProxy(es_url) as proxy:
        proxy.cut_after(2, seconds=None, pattern=rf"/{alias}/_bulk")
        cfg = write_config(tmp_path / "c.yaml", [proxy.url], alias, feeds,
                           es={"bulk_max_docs": BULK_DOCS, "max_retries": 1})
        failed = wirenews(tmp_path, "run", "-c", str(cfg))
        assert failed.returncode == 1
        # The run's own last words; the client's warnings from poll threads still winding down may follow them.
        tail = [line for line in failed.stderr.splitlines() if " wirenews: " in line][-2:]
        # Whichever writer meets the outage first names it: the sink, or the story step before it.
        assert "run failed: " in tail[0] and ("BulkRetriesExhausted" in tail[0]
                                             or "StoryStoreUnavailable" in tail[0]), failed.stderr[-3000:]
        assert "feed state was not committed" in tail[1]
        partial = stored(es_client, alias, tmp_path / "deadletter.ndjson")
        assert 0 < partial.indexed(EXPECTED) < len(EXPECTED)
        assert partial.duplicated == 0 and partial.dead_lettered == 0
        committed, _ = feed_states(es_client, alias)
        assert committed == {}, "feed state committed by a run that failed"
        proxy.restore()
        cfg = write_config(tmp_path / "c.yaml", [proxy.url], alias, feeds, es={"bulk_max_docs": BULK_DOCS})
        rerun = wirenews(tmp_path, "run", "-c", str(cfg))
    assert rerun.returncode == 0, rerun.stderr[-5000:]
    indexed, dup, dead = check_complete(es_client, alias, tmp_path, len(feeds))
    committed, _ = feed_states(es_client, alias)
    assert set(committed) == {f["name"] for f in feeds}
    record(Row("ES: gone for good after the 2nd bulk (1 retry allowed); then a re-run", len(EXPECTED), indexed,
               dup, dead, clock.seconds,
               f"exit {failed.returncode} naming BulkRetriesExhausted ({partial.indexed(EXPECTED)} stored); "
               "re-run exit 0"))


def test_node_gone_when_the_run_commits_its_feed_state(tmp_path, sample_server, es_url, es_settings, es_client, clock):
    """Every story is written, then the connection drops as the run makes its feed state current: the run
    fails, the state stays pending, and the re-run reads the feeds again and writes nothing twice."""
    feeds = sample_feeds(sample_server.port)
    alias = es_settings.index
    with FaultProxy(es_url, [Fault("reset_before", path=r"-feed-state/_refresh", limit=1)]) as proxy:
        cfg = write_config(tmp_path / "c.yaml", [proxy.url], alias, feeds, es={"bulk_max_docs": BULK_DOCS})
        failed = wirenews(tmp_path, "run", "-c", str(cfg))
        assert proxy.stats.faults["reset_before"] == 1
        assert failed.returncode == 1
        assert "feed state not committed" in failed.stderr and "Traceback" not in failed.stderr
        written = stored(es_client, alias)
        assert set(written.guids) == EXPECTED
        committed, pending = feed_states(es_client, alias)
        assert committed == {} and len(pending) == len(feeds)
        rerun = wirenews(tmp_path, "run", "-c", str(cfg), "--summary-json", str(tmp_path / "s.json"))
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    s = summary(tmp_path / "s.json")
    assert s["articles"]["new"] == 0 and s["articles"]["unchanged"] == len(EXPECTED)
    indexed, dup, dead = check_complete(es_client, alias, tmp_path, len(feeds))
    last = [ln for ln in failed.stderr.strip().splitlines() if ln.strip()][-1]
    record(Row("ES: connection lost as the run commits feed state; then a re-run", len(EXPECTED), indexed, dup,
               dead, clock.seconds, f"exit {failed.returncode} (`{last[:60]}`); re-run exit 0, 0 new"))
