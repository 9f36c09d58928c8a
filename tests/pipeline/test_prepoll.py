"""The launcher polls first: unchanged and failing feeds end there, the first change hands over to the pipeline."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from pipeline.config import Config, FetchSettings
from pipeline.prepoll import applies, prepoll
from tests.conftest import SAMPLES
from tests.loopback import Route
from transforms.article import FeedSpec
from transforms.sources.feed_state import FeedStateStore
from transforms.sources.http_client import HttpClient
from transforms.sources.politeness import FetchPolicy, HostGate, HostLimit
from transforms.sources.poll import HostQueues, poll_and_store

NAMES = ["afp-europe.atom", "ap-world.xml", "kyodo-japan.xml", "reuters-business.xml", "yonhap-korea.xml"]


def _config(es_settings, feeds: list[FeedSpec], min_gap: float = 0.0) -> Config:
    return Config(es=es_settings, feeds=feeds, fetch=FetchSettings(min_gap=min_gap, timeout=5.0, concurrency=2))


def _feeds(feed_server) -> list[FeedSpec]:
    return [FeedSpec(name=n.split(".")[0], url=feed_server.url(n)) for n in NAMES]


def _http(min_gap: float = 0.0, max_ttl: float = 3600.0) -> HttpClient:
    return HttpClient(gate=HostGate(min_gap=min_gap), timeout=5.0, policy=FetchPolicy(max_ttl=max_ttl))


def test_a_first_run_hands_over_at_the_first_changed_feed(feed_server, es_settings, tmp_path: Path):
    shutil.copy(SAMPLES / "ap-politics.xml", tmp_path / "drop.xml")
    files = FeedSpec(name="drop", url=str(tmp_path / "*.xml"))
    feeds = [*_feeds(feed_server), files]
    out = prepoll(_config(es_settings, feeds, min_gap=0.3), http=_http(0.3))
    assert out.pipeline_needed and out.handed and all(p.changed for p in out.handed)
    assert files in out.remaining  # files are left to the pipeline, never read by the launcher
    passed_on = [p.feed.name for p in out.handed] + [f.name for f in out.remaining]
    assert sorted(passed_on) == sorted(f.name for f in feeds) and out.counters == []
    # A host's next feed is polled only once the last proved unchanged: of the host's five feeds the first
    # is fetched and found changed, and the pipeline polls the other four (no wait for a politeness gap).
    assert len(out.handed) == 1 and len(feed_server.requests) == 1


def test_a_handed_feed_carries_the_path_of_its_body_not_the_body(feed_server, es_settings, tmp_path: Path):
    feed = _feeds(feed_server)[1]
    out = prepoll(_config(es_settings, [feed]), http=_http(), spool=tmp_path)
    [handed] = out.handed
    [res] = handed.results
    # The runner copies the feed list into its graph and each worker's plan: a path, whatever the feed weighs.
    assert res.body == b"" and Path(res.body_file).parent == tmp_path
    assert res.read_body() == (SAMPLES / NAMES[1]).read_bytes()
    outcome = poll_and_store(handed, None, None)
    assert outcome.status == "fetched" and outcome.articles


def test_nothing_changed_means_no_pipeline_and_the_counts_for_the_summary(feed_server, es_settings, es_client):
    store = FeedStateStore(es_client, es_settings.state_index)
    store.ensure_index()
    http = _http(max_ttl=0)  # polled again at once: conditional GETs, whatever ttl the samples declare
    for feed in _feeds(feed_server):  # what a finished earlier run left: validators, committed
        assert poll_and_store(feed, store, http).status == "fetched"
    feed_server.requests.clear()
    out = prepoll(_config(es_settings, _feeds(feed_server)), http=http)
    assert not out.pipeline_needed and out.finished == len(NAMES)
    assert all("If-None-Match" in headers for _, _, headers in feed_server.requests)
    counts: dict[tuple[str, str], int] = {}
    for ns, name, n in out.counters:
        counts[(ns, name)] = counts.get((ns, name), 0) + n
    assert counts[("wirenews", "feeds_unchanged")] == len(NAMES)
    assert counts[("wirenews.feed.kyodo-japan", "unchanged")] == 1


def test_a_failing_feed_ends_in_the_launcher_with_its_failure_stored(feed_server, es_settings, es_client):
    feed_server.routes["/gone.xml"] = Route(status=404, body=b"no")
    gone = FeedSpec(name="gone", url=feed_server.url("gone.xml"))
    store = FeedStateStore(es_client, es_settings.state_index)
    store.ensure_index()
    out = prepoll(_config(es_settings, [gone]), http=_http())
    assert not out.pipeline_needed
    assert ("wirenews", "feed_errors_http_status", 1) in out.counters
    assert ("wirenews.feed.gone", "failed", 1) in out.counters
    assert store.get("gone").consecutive_failures == 1


def test_only_the_local_runner_polls_first():
    assert applies([]) and applies(["--runner", "DirectRunner"]) and applies(["--direct_num_workers=2"])
    assert not applies(["--runner=FlinkRunner"]) and not applies(["--runner", "DataflowRunner"])


def test_host_queues_run_one_call_per_host_and_skip_cancelled_ones():
    queues = HostQueues(threads=2)
    gate = threading.Event()
    ran: list[str] = []
    try:
        first = queues.submit("a", lambda: gate.wait(5) and ran.append("a1"))
        second = queues.submit("a", lambda: ran.append("a2"))
        other = queues.submit("b", lambda: ran.append("b1"))
        other.result(timeout=5)  # another host is not held up by the first one's wait
        assert ran == ["b1"] and second.cancel()
        gate.set()
        first.result(timeout=5)
    finally:
        queues.shutdown()
    assert ran == ["b1", "a1"] and second.cancelled()


def test_robots_txt_disallowing_one_feed_skips_it_in_the_launcher_and_counts_why(feed_server, es_settings, es_client):
    feed_server.routes["/robots.txt"] = Route(body=b"User-agent: *\nDisallow: /kyodo-japan.xml\n")
    store = FeedStateStore(es_client, es_settings.state_index)
    store.ensure_index()
    http = HttpClient(gate=HostGate(min_gap=0.0), timeout=5.0, policy=FetchPolicy(max_ttl=0))
    feeds = _feeds(feed_server)
    for feed in feeds:  # an earlier run's state for the allowed feeds, so this one ends in the launcher
        poll_and_store(feed, store, http)
    feed_server.requests.clear()
    out = prepoll(_config(es_settings, feeds), http=http)
    assert not out.pipeline_needed
    assert ("wirenews", "feeds_skipped_robots", 1) in out.counters
    assert sum(n for ns, name, n in out.counters if (ns, name) == ("wirenews", "feeds_unchanged")) == 4
    assert "/kyodo-japan.xml" not in [p for _, p, _ in feed_server.requests]
    assert len(feed_server.robots_requests) == 1  # one origin: read once, by the first poll
    assert store.get("kyodo-japan") is None  # skipped is no failure: nothing stored, no backoff


def test_a_host_allowed_two_lanes_is_polled_two_feeds_at_a_time(feed_server, es_settings, es_client):
    store = FeedStateStore(es_client, es_settings.state_index)
    store.ensure_index()
    http = HttpClient(gate=HostGate(min_gap=0.0), timeout=5.0,
                      policy=FetchPolicy(max_ttl=0, hosts={"127.0.0.1": HostLimit(concurrency=2)}))
    out = prepoll(_config(es_settings, _feeds(feed_server)), http=http)
    # A first run: both lanes' first polls come back changed, so two feeds are handed on, not one.
    assert len(out.handed) == 2 and len(feed_server.requests) == 2
