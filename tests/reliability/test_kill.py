"""`wirenews run` killed with SIGKILL in the middle of its bulk writes, then run again.

The fault proxy lets three bulk requests through and holds every later one, so the kill always lands
with part of the stories indexed and feed state written as pending but not committed. The re-run must
index the rest exactly once and commit the state of every feed; a third run then finds every feed
unchanged (304) and writes nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests.conftest import REPO
from tests.faultproxy import BULK, Fault, FaultProxy
from tests.loopback import Route
from tests.reliability.conftest import (
    EXPECTED_STORIES,
    Row,
    feed_states,
    record,
    run_env,
    sample_feeds,
    stored,
    summary,
    wirenews,
    wirenews_cmd,
    write_config,
)

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.reliability]

EXPECTED = set(EXPECTED_STORIES)


def kill_mid_batch(tmp_path, es_url: str, alias: str, feeds: list[dict]) -> int:
    """Start a run, SIGKILL it while a bulk request is held in flight; returns the exit status."""
    with FaultProxy(es_url, [Fault("hold", path=BULK, after=3)]) as proxy:
        cfg = write_config(tmp_path / "killed.yaml", [proxy.url], alias, feeds, es={"bulk_max_docs": 5})
        log = open(tmp_path / "killed.log", "wb")  # noqa: SIM115 - closed below, after the kill
        proc = subprocess.Popen([*wirenews_cmd(), "run", "-c", str(cfg)], cwd=REPO, env=run_env(tmp_path),
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 180
            while proxy.stats.faults["hold"] == 0 and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            assert proc.poll() is None, (tmp_path / "killed.log").read_text(errors="replace")[-3000:]
            assert proxy.stats.faults["hold"] > 0, "no bulk request was held: the kill would not be mid-batch"
            os.killpg(proc.pid, signal.SIGKILL)
            return proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=60)
            log.close()
            proxy.release()


def test_sigkill_mid_batch_then_rerun(tmp_path, sample_server, es_url, es_settings, es_client, clock):
    alias = es_settings.index
    feeds = sample_feeds(sample_server.port)
    status = kill_mid_batch(tmp_path, es_url, alias, feeds)
    assert status == -signal.SIGKILL
    partial = stored(es_client, alias)
    assert 0 < partial.indexed(EXPECTED) < len(EXPECTED)
    committed, pending = feed_states(es_client, alias)
    assert committed == {} and pending, "the kill did not land between the state write and its commit"
    pending_at_kill = len(pending)

    cfg = write_config(tmp_path / "c.yaml", [es_url], alias, feeds)
    rerun = wirenews(tmp_path, "run", "-c", str(cfg), "--summary-json", str(tmp_path / "s2.json"))
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    after = stored(es_client, alias, tmp_path / "deadletter.ndjson")
    assert after.missing(EXPECTED) == set() and set(after.guids) == EXPECTED
    assert after.duplicated == 0 and after.dead_lettered == 0
    committed, pending = feed_states(es_client, alias)
    assert pending == []
    assert set(committed) == {f["name"] for f in feeds}
    assert all(s["last_status"] == "fetched" and s["etag"] for s in committed.values())

    third = wirenews(tmp_path, "run", "-c", str(cfg), "--summary-json", str(tmp_path / "s3.json"))
    assert third.returncode == 0, third.stderr[-4000:]
    s3 = summary(tmp_path / "s3.json")
    assert s3["feeds"]["unchanged"] == len(feeds) and s3["articles"]["new"] == 0
    final = stored(es_client, alias, tmp_path / "deadletter.ndjson")
    assert final.guids == after.guids
    record(Row("pipeline SIGKILLed mid-batch (3 bulks in), re-run, third run", len(EXPECTED),
               final.indexed(EXPECTED), final.duplicated, final.dead_lettered, clock.seconds,
               f"{partial.indexed(EXPECTED)} stored and {pending_at_kill} feed states pending at the kill; "
               "re-run exit 0; third run: all feeds 304"))


def test_a_feed_failing_after_a_kill_keeps_its_stories(tmp_path, sample_server, es_url, es_settings, es_client,
                                                       clock):
    """The killed run left this feed's state pending with its stories unindexed; the re-run cannot reach
    the feed. That pending state must not become current: the run after must still index its stories."""
    alias = es_settings.index
    feeds = sample_feeds(sample_server.port)
    kill_mid_batch(tmp_path, es_url, alias, feeds)
    partial = stored(es_client, alias)
    _, pending = feed_states(es_client, alias)
    by_feed: dict[str, set[str]] = {}
    for guid, story in EXPECTED_STORIES.items():
        by_feed.setdefault(story["feed"], set()).add(guid)
    victims = [f for f in feeds if f"{f['name']}#pending" in pending and by_feed[f["name"]] - set(partial.guids)]
    assert victims, "no feed has its state pending with stories missing: the scenario did not happen"
    victim = victims[0]
    path = "/" + victim["url"].rsplit("/", 1)[1]
    sample_server.routes[path] = Route(status=503, body=b"down for maintenance")

    cfg = write_config(tmp_path / "c.yaml", [es_url], alias, feeds)
    second = wirenews(tmp_path, "run", "-c", str(cfg), "--summary-json", str(tmp_path / "s2.json"))
    assert second.returncode == 1  # one feed failed, and says so
    assert summary(tmp_path / "s2.json")["feeds"]["failed"] == 1

    committed, pending = feed_states(es_client, alias)
    assert pending == []
    state = committed[victim["name"]]
    assert state["last_status"] == "failed" and not state["etag"] and not state["entry_hashes"], state
    # The feed now waits out its failure backoff; let that time pass, and the feed recover.
    es_client.update(index=es_settings.state_index, id=victim["name"], doc={"next_poll_at": "2000-01-01T00:00:00Z"},
                     refresh=True)
    del sample_server.routes[path]
    third = wirenews(tmp_path, "run", "-c", str(cfg))
    assert third.returncode == 0, third.stderr[-4000:]
    final = stored(es_client, alias, tmp_path / "deadletter.ndjson")
    assert final.missing(EXPECTED) == set(), f"lost the stories of {victim['name']}"
    assert final.duplicated == 0
    record(Row("SIGKILL mid-batch, then a re-run where one pending feed answers 503, then a run", len(EXPECTED),
               final.indexed(EXPECTED), final.duplicated, final.dead_lettered, clock.seconds,
               "re-run exit 1 naming the failed feed, its stale pending state dropped; "
               "after its backoff, next run exit 0"))
