"""The politeness gate: the gap follows what the last answer cost, per-host limits, kept-alive connections."""

from __future__ import annotations

import threading

import pytest

from tests.loopback import Route
from transforms.sources.errors import FetchError
from transforms.sources.http_client import HttpClient
from transforms.sources.politeness import FetchPolicy, HostGate, HostLimit
from transforms.sources.poll import HostQueues


class FakeTime:
    """A clock that moves only when the gate sleeps: every wait the gate asks for is recorded exactly."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


def test_the_gap_after_a_request_is_the_one_its_answer_set(fake):
    gate = HostGate(min_gap=0.5, clock=fake.clock, sleep=fake.sleep)
    with gate.slot("a.example") as ticket:
        ticket.gap = 0.1  # an answer without a body
    with gate.slot("a.example"):  # a page: the default gap follows it
        pass
    with gate.slot("a.example"):
        pass
    assert fake.sleeps == [0.1, 0.5] and gate.waited() == pytest.approx(0.6)


def test_a_host_with_two_lanes_takes_two_requests_at_once_each_lane_keeping_its_gap(fake):
    gate = HostGate(min_gap=1.0, clock=fake.clock, sleep=fake.sleep)
    with gate.slot("a.example", concurrency=2), gate.slot("a.example", concurrency=2):
        pass  # both held at once: no wait, no refusal
    assert fake.sleeps == []
    with gate.slot("a.example", concurrency=2):  # each lane waits out the gap of its own last request
        pass
    assert fake.sleeps == [1.0]


def test_one_lane_means_a_second_request_waits_for_the_first():
    gate = HostGate(min_gap=0.0, max_wait=0.05)
    with gate.slot("a.example"), pytest.raises(FetchError) as e, gate.slot("a.example"):
        pass
    assert e.value.kind == "host_backoff"


def test_a_request_refused_for_a_too_long_wait_does_not_move_the_lane(fake):
    gate = HostGate(min_gap=0.0, max_wait=10.0, clock=fake.clock, sleep=fake.sleep)
    with gate.slot("a.example") as ticket:
        ticket.gap = 15.0
    with pytest.raises(FetchError), gate.slot("a.example"):
        pass
    fake.now = 6.0  # 9 s left of the 15: within max_wait now
    with gate.slot("a.example"):
        pass
    assert fake.sleeps == [9.0]


def test_retry_after_holds_every_lane_of_the_host(fake):
    gate = HostGate(min_gap=0.0, max_wait=60.0, clock=fake.clock, sleep=fake.sleep)
    gate.defer("a.example", 20.0)
    with gate.slot("a.example", concurrency=3):
        pass
    with gate.slot("b.example"):
        pass
    assert fake.sleeps == [20.0]


def test_policy_gaps_per_host_and_the_not_modified_gap_never_above_the_page_gap():
    policy = FetchPolicy(min_gap=0.5, min_gap_not_modified=0.1,
                         hosts={"slow.example": HostLimit(min_gap=2.0, concurrency=1),
                                "own.example": HostLimit(min_gap=0.0, concurrency=4),
                                "picky.example": HostLimit(min_gap_not_modified=0.3)})
    assert policy.gaps("other.example", default=9.0) == (0.5, 0.1)
    assert policy.gaps("SLOW.example", default=9.0) == (2.0, 0.1)
    assert policy.gaps("own.example", default=9.0) == (0.0, 0.0)
    assert policy.gaps("picky.example", default=9.0) == (0.5, 0.3)
    assert FetchPolicy().gaps("x.example", default=0.7) == (0.7, 0.02)  # min_gap unset: the gate's
    assert policy.concurrency("own.example") == 4 and policy.concurrency("other.example") == 1


def test_a_304_is_followed_by_the_short_gap_and_a_page_by_the_long_one(feed_server, fake):
    gate = HostGate(min_gap=0.5, clock=fake.clock, sleep=fake.sleep)
    http = HttpClient(gate=gate, timeout=5.0, policy=FetchPolicy(min_gap_not_modified=0.1, robots=False))
    url = feed_server.url("afp-europe.atom")
    first = http.get(url)
    assert first.status == 200
    assert http.get(url, etag=first.headers["etag"]).status == 304  # after a page: 0.5 s
    assert http.get(url, etag=first.headers["etag"]).status == 304  # after a 304: 0.1 s
    http.get(url)  # after a 304: 0.1 s
    http.get(url)  # after a page: 0.5 s
    assert fake.sleeps == [0.5, 0.1, 0.1, 0.5]


def test_a_redirect_costs_the_short_gap_too(feed_server, fake):
    feed_server.routes["/old.xml"] = Route(status=301, headers={"Location": "/afp-europe.atom"})
    gate = HostGate(min_gap=0.5, clock=fake.clock, sleep=fake.sleep)
    http = HttpClient(gate=gate, timeout=5.0, policy=FetchPolicy(min_gap_not_modified=0.1, robots=False))
    assert http.get(feed_server.url("old.xml")).status == 200
    assert fake.sleeps == [0.1]


def test_one_hosts_feeds_share_one_kept_alive_connection(feed_server):
    http = HttpClient(gate=HostGate(min_gap=0.0), timeout=5.0)
    feed_server.peers.clear()
    names = ["afp-europe.atom", "ap-world.xml", "kyodo-japan.xml"]
    etags = [http.get(feed_server.url(n)).headers["etag"] for n in names]
    for name, etag in zip(names, etags, strict=True):  # the re-poll: conditional GETs, answered 304
        assert http.get(feed_server.url(name), etag=etag).status == 304
    assert len(feed_server.peers) == 7  # robots.txt, then three pages and three 304s
    assert len(set(feed_server.peers)) == 1, feed_server.peers
    http.close()


def test_host_queues_run_as_many_calls_at_once_as_the_host_allows():
    queues = HostQueues(threads=4, per_host=lambda host: 2 if host == "wide" else 1)
    try:
        met = threading.Event()
        first = queues.submit("wide", lambda: met.wait(10))
        queues.submit("wide", met.set)
        assert first.result(timeout=15) is True  # the second ran while the first was still waiting
        held = threading.Event()
        blocked = queues.submit("narrow", lambda: held.wait(0.5))
        queues.submit("narrow", held.set)
        assert blocked.result(timeout=15) is False  # one at a time: the second only ran after the first
    finally:
        queues.shutdown()
