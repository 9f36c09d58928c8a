"""The order in which the batch graph hands feeds to the runner (pure; no pipeline runs here)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

from pipeline.graph import by_host
from transforms.article import FeedSpec
from transforms.sources.feed_state import initial_state
from transforms.sources.poll import Polled, host_of

NOW = datetime(2026, 11, 29, 6, 0, tzinfo=timezone.utc)
HOSTS = ["english.news.cn", "www.china.org.cn", "www.reuters.com", "apnews.com", "www.afp.com", "en.yna.co.kr"]


def _feeds(count: int) -> list[FeedSpec]:
    """Feeds listed the way a config usually grows: agencies in turn."""
    return [FeedSpec(name=f"feed-{i}", url=f"https://{HOSTS[i % len(HOSTS)]}/rss/{i}.xml") for i in range(count)]


def test_each_hosts_feeds_end_up_together_in_first_appearance_order():
    feeds = _feeds(14)
    ordered = by_host(feeds)
    assert sorted(f.name for f in ordered) == sorted(f.name for f in feeds)
    hosts = [host_of(f) for f in ordered]
    assert list(dict.fromkeys(hosts)) == HOSTS
    assert all(hosts[i] == hosts[i + 1] or hosts[i + 1] not in hosts[: i + 1] for i in range(len(hosts) - 1))
    assert [f.name for f in ordered if host_of(f) == "apnews.com"] == ["feed-3", "feed-9"]  # config order kept


def test_dealt_in_turn_every_worker_gets_an_even_share_of_every_host():
    for workers in (2, 3):
        dealt = [Counter(host_of(f) for f in by_host(_feeds(50))[w::workers]) for w in range(workers)]
        for host in HOSTS:
            shares = [d[host] for d in dealt]
            assert max(shares) - min(shares) <= 1, (workers, host, shares)
        totals = [sum(d.values()) for d in dealt]
        assert max(totals) - min(totals) <= 1
    # Without the grouping, two workers dealt a config of six agencies in turn get three agencies each.
    plain = [Counter(host_of(f) for f in _feeds(50)[w::2]) for w in range(2)]
    assert set(plain[0]).isdisjoint(plain[1])


def test_feeds_the_launcher_fetched_and_files_are_placed_with_their_host():
    feeds = _feeds(6)
    handed = Polled(feeds[4], initial_state(feeds[4].name, feeds[4].url), [], NOW)
    drop = FeedSpec(name="drop", url="file:///var/spool/wire/*.xml")
    ordered = by_host([handed, *feeds[:4], drop, feeds[5], FeedSpec(name="afp-2", url="https://www.afp.com/2.xml")])
    assert [getattr(f, "name", None) or f.feed.name for f in ordered] == [
        "feed-4", "afp-2", "feed-0", "feed-1", "feed-2", "feed-3", "drop", "feed-5"]
