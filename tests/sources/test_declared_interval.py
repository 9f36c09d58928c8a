"""A feed's own declared interval (RSS ttl, sy:updatePeriod): read, stored, and obeyed up to max_ttl."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from transforms.article import FeedSpec
from transforms.sources.feed_state import declared_due_at, initial_state, on_success
from transforms.sources.feeds import declared_interval
from transforms.sources.fetch import fetch_feed
from transforms.sources.http_client import HttpClient
from transforms.sources.politeness import FetchPolicy, HostGate
from transforms.sources.poll import process_feed

NOW = datetime(2026, 11, 29, 6, 0, tzinfo=timezone.utc)
SY = 'xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"'


@pytest.mark.parametrize("meta,seconds", [
    ({"ttl": "30"}, 1800.0),
    ({"sy_updateperiod": "hourly", "sy_updatefrequency": "2"}, 1800.0),
    ({"sy_updateperiod": "daily"}, 86400.0),
    ({"sy_updateperiod": "Weekly ", "sy_updatefrequency": "junk"}, 7 * 86400.0),
    ({"ttl": "60", "sy_updateperiod": "daily", "sy_updatefrequency": "48"}, 1800.0),  # the shorter
    ({"ttl": "soon"}, None), ({"ttl": "0"}, None), ({"sy_updateperiod": "fortnightly"}, None), ({}, None),
])
def test_what_a_feed_declares(meta, seconds):
    assert declared_interval(meta) == seconds


def _rss(channel_extra: str) -> bytes:
    return (f'<?xml version="1.0"?><rss version="2.0" {SY}><channel><title>T</title><link>http://x.example/</link>'
            f"{channel_extra}<item><title>One</title><link>http://x.example/1</link><guid>urn:x:1</guid></item>"
            "</channel></rss>").encode()


def _served(feed_server, body: bytes) -> FeedSpec:
    from tests.loopback import Route

    feed_server.routes["/declared.xml"] = Route(body=body, headers={"Content-Type": "application/rss+xml"})
    return FeedSpec(name="declared", url=feed_server.url("declared.xml"))


def _http(**policy) -> HttpClient:
    return HttpClient(gate=HostGate(min_gap=0.0), timeout=5.0, policy=FetchPolicy(robots=False, **policy))


def test_a_feed_is_not_polled_again_before_its_ttl_and_is_once_it_passed(feed_server):
    feed = _served(feed_server, _rss("<ttl>20</ttl>"))
    http = _http()
    first = process_feed(feed, None, http, NOW)
    assert first.status == "fetched" and first.state.declared_interval == 1200.0
    early = process_feed(feed, first.state, http, NOW + timedelta(minutes=19))
    assert early.status == "skipped" and early.counts == {"feeds_skipped": 1, "feeds_skipped_not_due": 1}
    assert len(feed_server.requests) == 1  # nothing asked of the server
    due = process_feed(feed, first.state, http, NOW + timedelta(minutes=20))
    assert due.status == "unchanged" and len(feed_server.requests) == 2
    assert due.state.declared_interval == 1200.0  # a 304 says nothing: the interval is kept


def test_a_week_long_ttl_is_capped_at_max_ttl(feed_server):
    feed = _served(feed_server, _rss("<sy:updatePeriod>weekly</sy:updatePeriod>"))
    http = _http(max_ttl=3600)
    first = process_feed(feed, None, http, NOW)
    assert first.state.declared_interval == 7 * 86400.0
    [later] = fetch_feed(feed, first.state, http, NOW + timedelta(hours=1))
    assert later.status == "unchanged"


def test_max_ttl_zero_ignores_declared_intervals(feed_server):
    feed = _served(feed_server, _rss("<ttl>60</ttl>"))
    http = _http(max_ttl=0)
    first = process_feed(feed, None, http, NOW)
    [again] = fetch_feed(feed, first.state, http, NOW)
    assert again.status == "unchanged" and len(feed_server.requests) == 2  # asked again at once


def test_a_feed_that_drops_its_ttl_is_polled_on_every_run_again(feed_server):
    feed = _served(feed_server, _rss("<ttl>60</ttl>"))
    http = _http()
    first = process_feed(feed, None, http, NOW)
    _served(feed_server, _rss(""))
    changed = process_feed(feed, first.state, http, NOW + timedelta(hours=2))
    assert changed.status == "fetched" and changed.state.declared_interval is None
    assert declared_due_at(changed.state, 3600) is None


def test_due_from_the_last_success():
    state = on_success(initial_state("f", "http://x.example/f"), NOW, 300, changed=True, declared_interval=600.0)
    assert declared_due_at(state, 3600) == NOW + timedelta(seconds=600)
    assert declared_due_at(state, 60) == NOW + timedelta(seconds=60)
    assert declared_due_at(state, 0) is None
    kept = on_success(state, NOW, 300, changed=False)
    assert kept.declared_interval == 600.0
