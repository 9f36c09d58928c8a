"""robots.txt: read once per origin and TTL, disallowed feeds skipped (not failed), Crawl-delay raises the gap."""

from __future__ import annotations

import random
from datetime import datetime, timezone

from tests.loopback import Route
from transforms.article import FeedSpec
from transforms.sources.feed_state import initial_state
from transforms.sources.http_client import HttpClient
from transforms.sources.politeness import FetchPolicy, HostGate
from transforms.sources.poll import process_feed
from transforms.sources.robots import RobotsCache, robots_url

NOW = datetime(2026, 11, 29, 6, 0, tzinfo=timezone.utc)
ROBOTS = b"User-agent: *\nDisallow: /private/\nCrawl-delay: 2\n\nUser-agent: otherbot\nDisallow: /\n"


def _client(**policy) -> HttpClient:
    return HttpClient(gate=HostGate(min_gap=0.0), timeout=5.0, policy=FetchPolicy(**policy))


def test_rules_are_read_once_per_origin_until_the_ttl_passes():
    clock = [0.0]
    reads: list[str] = []

    def read(url: str) -> str:
        reads.append(url)
        return "User-agent: *\nDisallow: /private/\n"

    cache = RobotsCache(read, "wirenews/1.0", ttl=100.0, clock=lambda: clock[0])
    assert not cache.check("http://a.example/private/feed.xml").allowed
    assert cache.check("http://a.example/news.xml").allowed
    assert cache.check("http://b.example:8080/private/x").allowed is False
    assert reads == ["http://a.example/robots.txt", "http://b.example:8080/robots.txt"]
    clock[0] = 101.0
    cache.check("http://a.example/news.xml")
    assert reads[-1] == "http://a.example/robots.txt" and len(reads) == 3


def test_a_robots_txt_that_cannot_be_read_allows_everything_and_is_not_asked_again_at_once():
    calls = []

    def broken(url: str) -> str:
        calls.append(url)
        raise OSError("connection refused")

    cache = RobotsCache(broken, "wirenews/1.0")
    assert cache.check("http://a.example/feed.xml").allowed
    assert cache.check("http://a.example/other.xml").allowed and len(calls) == 1


def test_robots_url_is_the_origin_root():
    assert robots_url("https://User@News.Example:8443/a/b.xml?x=1") == "https://news.example:8443/robots.txt"


def test_a_disallowed_feed_is_skipped_with_its_reason_and_keeps_its_state(feed_server):
    feed_server.routes["/robots.txt"] = Route(body=ROBOTS, headers={"Content-Type": "text/plain"})
    feed_server.routes["/private/feed.xml"] = Route(body=b"<rss/>")
    http = _client()
    feed = FeedSpec(name="private", url=feed_server.url("private/feed.xml"))
    out = process_feed(feed, initial_state(feed.name, feed.url), http, NOW, rng=random.Random(1))
    assert out.status == "skipped" and out.counts["feeds_skipped_robots"] == 1 and not out.errors
    assert out.counts.get("feeds_failed", 0) == 0 and out.state.consecutive_failures == 0
    assert feed_server.requests == []  # only robots.txt was asked
    allowed = process_feed(FeedSpec(name="ok", url=feed_server.url("afp-europe.atom")), None, http, NOW)
    assert allowed.status == "fetched"
    assert len(feed_server.robots_requests) == 1  # one origin, one read
    assert http.gaps("127.0.0.1") == (2.0, 2.0)  # Crawl-delay raises both gaps


def test_crawl_delay_is_capped(feed_server):
    feed_server.routes["/robots.txt"] = Route(body=b"User-agent: *\nCrawl-delay: 3600\n")
    http = _client(max_crawl_delay=5.0, min_gap=0.5)
    http.get(feed_server.url("afp-europe.atom"))
    assert http.gaps("127.0.0.1") == (5.0, 5.0)


def test_a_robots_txt_that_404s_or_fails_allows_the_feed(feed_server):
    assert process_feed(FeedSpec(name="a", url=feed_server.url("afp-europe.atom")), None, _client(), NOW
                        ).status == "fetched"  # the samples have no robots.txt: 404
    feed_server.routes["/robots.txt"] = Route(status=500, body=b"oops")
    assert process_feed(FeedSpec(name="a", url=feed_server.url("afp-europe.atom")), None, _client(), NOW
                        ).status == "fetched"
    assert len(feed_server.robots_requests) == 2  # each client read it once


def test_robots_off_asks_no_robots_txt(feed_server):
    feed_server.routes["/robots.txt"] = Route(body=b"User-agent: *\nDisallow: /\n")
    out = process_feed(FeedSpec(name="a", url=feed_server.url("afp-europe.atom")), None, _client(robots=False), NOW)
    assert out.status == "fetched" and feed_server.robots_requests == []


def test_a_redirect_into_a_disallowed_path_is_not_followed(feed_server):
    feed_server.routes["/robots.txt"] = Route(body=ROBOTS)
    feed_server.routes["/moved.xml"] = Route(status=301, headers={"Location": "/private/feed.xml"})
    out = process_feed(FeedSpec(name="m", url=feed_server.url("moved.xml")), None, _client(), NOW)
    assert out.status == "skipped" and out.counts["feeds_skipped_robots"] == 1
    assert [p for _, p, _ in feed_server.requests] == ["/moved.xml"]
