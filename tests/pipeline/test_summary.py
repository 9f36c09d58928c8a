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


def test_skip_reasons_are_counted_apart_from_failures():
    results = {"counters": [
        counter("wirenews", "feeds_skipped", 4), counter("wirenews", "feeds_skipped_not_due", 2),
        counter("wirenews", "feeds_skipped_robots", 1), counter("wirenews", "feeds_skipped_backing_off", 1),
        counter("wirenews", "politeness_wait_ms", 900),
    ]}
    text = render(summarize(results))
    assert "feeds: 0 fetched, 0 unchanged, 0 failed, 4 skipped" in text
    assert ("skipped: 2 not due (the feed's ttl / sy:updatePeriod, up to fetch.max_ttl), 1 backing off after "
            "failures, 1 disallowed by robots.txt") in text
    assert "politeness: 0.9s waited" in text and "fetch.min_gap_not_modified" in text
    assert "skipped:" not in render(summarize({"counters": []}))


def test_the_wire_readers_line():
    results = {"counters": [
        counter("wirenews", "wire_items_nitf", 6), counter("wirenews", "wire_items_newsml-g2", 5),
        counter("wirenews", "wire_packages", 1), counter("wirenews", "wire_skipped_non_text", 2),
        counter("wirenews", "wire_versions_superseded", 3), counter("wirenews", "wire_versions_stale", 1),
        counter("wirenews", "feed_errors_wire_xml", 1),
    ]}
    text = render(summarize(results))
    assert ("wire: 11 stories read (5 newsml-g2, 6 nitf); 1 packages counted, not indexed; 3 older versions "
            "superseded in the same read; 1 older versions than the stored ones left alone; "
            "skipped: 2 non-text") in text
    assert "feed errors: 1 wire_xml" in text
    assert "wire:" not in render(summarize({"counters": []}))
