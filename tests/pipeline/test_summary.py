"""The run summary folds Beam counters into totals and a per-feed table."""

from types import SimpleNamespace as NS

from pipeline.summary import render, summarize


def counter(ns, name, value):
    return NS(key=NS(metric=NS(namespace=ns, name=name)), committed=value, attempted=value)


def test_totals_per_feed_and_render():
    results = {"counters": [
        counter("wirenews", "feeds_fetched", 2), counter("wirenews", "feeds_failed", 1),
        counter("wirenews", "articles_new", 5), counter("wirenews", "articles_dead_lettered", 1),
        counter("wirenews", "feed_errors_timeout", 1), counter("wirenews", "politeness_wait_ms", 2500),
        counter("wirenews.feed.xinhua-world", "fetched", 1), counter("wirenews.feed.xinhua-world", "new", 3),
        counter("wirenews.feed.xinhua-world", "new", 2),  # reported by two workers
        counter("wirenews.feed.ap-top", "unchanged", 1), counter("wirenews.feed.ap-top", "articles_unchanged", 7),
        counter("other", "ignored", 9),
    ]}
    s = summarize(results, ["xinhua-world", "ap-top", "broken"])
    assert s.total("feeds_fetched") == 2 and s.feeds_failed == 1 and s.dead_lettered == 1
    assert s.per_feed["xinhua-world"] == {"fetched": 1, "new": 5}
    assert s.per_feed["ap-top"] == {"unchanged": 1, "articles_unchanged": 7} and "ignored" not in s.totals
    text = render(s, elapsed=1.25)
    assert "xinhua-world" in text and "ap-top" in text
    ap_row = next(line.split() for line in text.splitlines() if line.startswith("ap-top"))
    assert ap_row == ["ap-top", "0", "1", "0", "|", "0", "0", "7", "0"]
    assert "feeds: 2 fetched, 0 unchanged, 1 failed, 0 skipped" in text
    assert "5 new" in text and "1 dead-lettered" in text and "1 timeout" in text and "1.2s" in text
    assert s.to_json()["articles"]["new"] == 5
    assert "politeness: 2.5s waited" in text
    assert "politeness" not in render(summarize({"counters": []}))
