"""ReadFeeds end to end on the loopback server and local files, with and without feed state in Elasticsearch."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.timestamp import Timestamp
from apache_beam.utils.windowed_value import WindowedValue

from tests.conftest import DATA, SAMPLES
from tests.loopback import LoopbackServer, Route
from transforms.article import FeedSpec
from transforms.sources.feed_state import FeedStateStore, initial_state, on_failure
from transforms.sources.http_client import HttpClient
from transforms.sources.politeness import FetchPolicy, HostGate
from transforms.sources.poll import process_feed
from transforms.sources.read_feeds import ReadFeeds, ReadOptions, _ReadFeedFn

NOW = datetime(2026, 11, 29, 6, 0, tzinfo=timezone.utc)


class _Spool(beam.DoFn):
    """Appends each article as a JSON line: the runner's elements are copies, so a shared list stays empty."""

    def __init__(self, path: str) -> None:
        self.path = path

    def process(self, article):
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(article.to_dict()) + "\n")


def _run(feeds: list[FeedSpec], es=None, **options) -> tuple[list, dict[str, int]]:
    """Run ReadFeeds; return the articles and the committed counters as {namespace/name: value}."""
    with tempfile.TemporaryDirectory() as tmp:
        spool = os.path.join(tmp, "articles.jsonl")
        p = TestPipeline(runner=FnApiRunner())
        _ = p | beam.Create(feeds) | ReadFeeds(es, timeout=5.0, min_gap=0.0, **options) | beam.ParDo(_Spool(spool))
        result = p.run()
        result.wait_until_finish()
        collected = []
        if os.path.exists(spool):
            with open(spool, encoding="utf-8") as f:
                collected = [json.loads(line) for line in f]
    counters = {}
    for c in result.metrics().query(MetricsFilter())["counters"]:
        key = f"{c.key.metric.namespace}/{c.key.metric.name}"
        counters[key] = counters.get(key, 0) + c.committed
    return collected, counters


def test_http_and_file_feeds_to_articles(feed_server, tmp_path):
    shutil.copy(SAMPLES / "reuters-business.xml", tmp_path / "a.xml")
    shutil.copy(SAMPLES / "ap-politics.xml", tmp_path / "b.xml")
    feeds = [
        FeedSpec(name="xinhua", url=feed_server.url("xinhua-world.xml"), agency="xinhua"),
        FeedSpec(name="drop", url=str(tmp_path / "*.xml")),
        FeedSpec(name="gone", url=feed_server.url("missing.xml")),
    ]
    articles, counters = _run(feeds)
    by_feed = {}
    for a in articles:
        by_feed.setdefault(a["feed_name"], []).append(a)
    assert set(by_feed) == {"xinhua", "drop"}
    assert all(a["agency"] == "xinhua" for a in by_feed["xinhua"])
    assert all(len(a["id"]) == 64 for a in articles)
    assert len({a["id"] for a in articles}) == len(articles)
    assert counters["wirenews/feeds_fetched"] == 2
    assert counters["wirenews/feeds_failed"] == 1
    assert counters["wirenews/feed_errors_http_status"] == 1
    assert counters["wirenews/articles_parsed"] == len(articles)
    assert counters["wirenews.feed.xinhua/articles"] == len(by_feed["xinhua"])
    assert counters["wirenews.feed.gone/failed"] == 1
    assert counters["wirenews.feed.drop/fetched"] == 1


def test_second_run_with_state_in_es_yields_nothing(feed_server, es_settings, es_client):
    feeds = [FeedSpec(name="xinhua", url=feed_server.url("xinhua-world.xml")),
             FeedSpec(name="afp", url=feed_server.url("afp-europe.atom"))]
    first, c1 = _run(feeds, es_settings)
    assert first and c1["wirenews/feeds_fetched"] == 2
    store = FeedStateStore(es_client, es_settings.state_index)
    state = store.get("xinhua")
    assert state is not None and state.etag and state.body_hash and state.last_success_at
    feed_server.requests.clear()
    # The RSS feed declares <ttl>5</ttl>: polled again at once, it is not due, and its server is not asked.
    early, c_early = _run(feeds, es_settings)
    assert early == [] and c_early["wirenews/feeds_skipped_not_due"] == 1 and c_early["wirenews/feeds_unchanged"] == 1
    assert [p for _, p, _ in feed_server.requests] == ["/afp-europe.atom"]
    feed_server.requests.clear()
    second, c2 = _run(feeds, es_settings, policy=FetchPolicy(min_gap=0.0, max_ttl=0))  # declared intervals ignored
    assert second == []
    assert c2["wirenews/feeds_unchanged"] == 2
    assert c2.get("wirenews/feeds_fetched", 0) == 0
    conditional = [h for (_, _, h) in feed_server.requests if "If-None-Match" in h]
    assert len(conditional) == 2


def test_a_backing_off_feed_is_skipped(feed_server, es_settings, es_client):
    store = FeedStateStore(es_client, es_settings.state_index)
    store.ensure_index()
    url = feed_server.url("xinhua-world.xml")
    failing = on_failure(initial_state("xinhua", url), datetime.now(timezone.utc), 300, "connect", "refused")
    store.put(failing)
    articles, counters = _run([FeedSpec(name="xinhua", url=url)], es_settings)
    assert articles == [] and counters["wirenews/feeds_skipped"] == 1
    assert feed_server.requests == []


def test_process_feed_is_plain_python(feed_server):
    http = HttpClient(gate=HostGate(min_gap=0.0), timeout=5.0)
    feed = FeedSpec(name="afp", url=feed_server.url("afp-europe.atom"))
    first = process_feed(feed, None, http, NOW)
    assert first.status == "fetched" and first.articles
    assert first.state.etag and first.state.consecutive_failures == 0
    again = process_feed(feed, first.state, http, NOW)
    assert again.status == "unchanged" and again.articles == []
    assert again.counts["feeds_unchanged"] == 1


@pytest.mark.parametrize("name", ["nope.xml"])
def test_missing_file_is_a_named_failure(tmp_path: Path, name: str):
    out = process_feed(FeedSpec(name="f", url=str(tmp_path / name)), None, None, NOW)
    assert out.status == "failed" and out.counts["feed_errors_not_found"] == 1
    assert out.state.consecutive_failures == 1


def test_an_empty_drop_folder_is_nothing_new_and_a_missing_one_a_failure(tmp_path: Path):
    drop = tmp_path / "drop"
    drop.mkdir()
    out = process_feed(FeedSpec(name="f", url=str(drop / "*.xml")), None, None, NOW)
    assert out.status == "unchanged" and not out.errors and out.articles == []
    assert out.state.consecutive_failures == 0
    gone = process_feed(FeedSpec(name="f", url=str(tmp_path / "gone" / "*.xml")), None, None, NOW)
    assert gone.status == "failed" and gone.counts["feed_errors_not_found"] == 1


def test_full_text_feed_fetches_the_article_pages(feed_server):
    page = (DATA / "ingest" / "article_page.html").read_bytes()
    feed_server.routes["/story.html"] = Route(body=page, headers={"Content-Type": "text/html"})
    rss = (f'<rss version="2.0"><channel><title>T</title><link>{feed_server.url()}</link>'
           f'<item><title>Hafen</title><link>{feed_server.url("story.html")}</link><guid>urn:t:1</guid>'
           f"<description>Kurz.</description></item>"
           f'<item><title>Gone</title><link>{feed_server.url("gone.html")}</link><guid>urn:t:2</guid>'
           f"<description>Nur dieser Text.</description></item></channel></rss>").encode()
    feed_server.routes["/ft.xml"] = Route(body=rss, headers={"Content-Type": "application/rss+xml"})
    articles, _ = _run([FeedSpec(name="ft", url=feed_server.url("ft.xml"), full_text=True)])
    by_guid = {a["guid"]: a for a in articles}
    assert "Uferzonen" in by_guid["urn:t:1"]["content_html"] and by_guid["urn:t:1"]["full_text"]
    assert by_guid["urn:t:2"]["flags"] == ["fulltext:fetch_http_status"]
    assert by_guid["urn:t:2"]["summary_html"] == "Nur dieser Text."


def test_a_drop_folder_yields_only_new_or_changed_files(tmp_path):
    shutil.copy(SAMPLES / "reuters-business.xml", tmp_path / "a.xml")
    shutil.copy(SAMPLES / "ap-politics.xml", tmp_path / "b.xml")
    feed = FeedSpec(name="drop", url=str(tmp_path / "*.xml"))
    first = process_feed(feed, None, None, NOW)
    assert first.status == "fetched" and set(first.state.file_hashes) == {str(tmp_path / "a.xml"),
                                                                          str(tmp_path / "b.xml")}
    again = process_feed(feed, first.state, None, NOW)
    assert again.status == "unchanged" and again.articles == []
    shutil.copy(SAMPLES / "xinhua-world.xml", tmp_path / "c.xml")
    third = process_feed(feed, again.state, None, NOW)
    assert third.status == "fetched" and {a.feed_url for a in third.articles} == {feed.url}
    assert {a.source_name for a in third.articles} == {"Xinhua | World"}
    assert len(third.state.file_hashes) == 3


def test_deferred_state_is_only_trusted_once_committed(feed_server, es_settings, es_client):
    feeds = [FeedSpec(name="afp", url=feed_server.url("afp-europe.atom"))]
    first, _ = _run(feeds, es_settings, defer_state=True)
    store = FeedStateStore(es_client, es_settings.state_index)
    assert first and store.get("afp") is None  # pending only: as if the run died before indexing
    again, c2 = _run(feeds, es_settings, defer_state=True)
    assert [a["id"] for a in again] == [a["id"] for a in first] and c2["wirenews/feeds_fetched"] == 1
    assert store.commit_pending() == 1 and store.get("afp").etag
    third, c3 = _run(feeds, es_settings, defer_state=True)
    assert third == [] and c3["wirenews/feeds_unchanged"] == 1
    assert store.commit_pending() == 0


def test_a_changed_feed_passes_on_only_new_or_edited_entries(feed_server):
    def rss(*items: tuple[str, str]) -> bytes:
        body = "".join(f"<item><title>{t}</title><link>http://e.example/{g}</link><guid>urn:e:{g}</guid></item>"
                       for g, t in items)
        return f'<rss version="2.0"><channel><title>E</title>{body}</channel></rss>'.encode()

    http = HttpClient(gate=HostGate(min_gap=0.0), timeout=5.0)
    feed = FeedSpec(name="e", url=feed_server.url("e.xml"))
    feed_server.routes["/e.xml"] = Route(body=rss(("1", "One"), ("2", "Two")))
    first = process_feed(feed, None, http, NOW)
    assert [a.title for a in first.articles] == ["One", "Two"] and len(first.state.entry_hashes) == 2
    feed_server.routes["/e.xml"] = Route(body=rss(("3", "Three"), ("1", "One, updated"), ("2", "Two")))
    second = process_feed(feed, first.state, http, NOW)
    assert [a.title for a in second.articles] == ["Three", "One, updated"]
    assert second.counts["articles_parsed"] == 3 and second.counts["articles_unchanged"] == 1
    assert len(second.state.entry_hashes) == 3
    # forgetting the state brings everything back
    assert len(process_feed(feed, None, http, NOW).articles) == 3


def test_bozo_reasons_are_counted_by_kind(tmp_path):
    from transforms.sources.poll import bozo_kind

    assert bozo_kind("SAXParseException: not well-formed") == "sax_parse_exception"
    assert bozo_kind("CharacterEncodingOverride: document declared as utf-8") == "character_encoding_override"
    path = tmp_path / "broken.xml"
    path.write_bytes((DATA / "ingest" / "rss_illformed.xml").read_bytes())
    out = process_feed(FeedSpec(name="b", url=str(path)), None, None, NOW)
    assert out.status == "fetched" and len(out.articles) == 2
    assert out.counts["feeds_bozo"] == 1 and out.counts["bozo_sax_parse_exception"] == 1


class _Watched(_ReadFeedFn):
    """Records, per host, how many polls run at the same moment."""

    def setup(self) -> None:
        super().setup()
        self.watch = threading.Lock()
        self.running: dict[str, int] = {}
        self.most: dict[str, int] = {}
        self.most_overall = 0

    def poll(self, feed: FeedSpec):
        host = urlsplit(feed.url).hostname or ""
        with self.watch:
            self.running[host] = self.running.get(host, 0) + 1
            self.most[host] = max(self.most.get(host, 0), self.running[host])
            self.most_overall = max(self.most_overall, sum(self.running.values()))
        try:
            return super().poll(feed)
        finally:
            with self.watch:
                self.running[host] -= 1


def _bundle(fn: _ReadFeedFn, feeds: list[FeedSpec], timestamp=None, window=None) -> list[WindowedValue]:
    """One bundle through the DoFn as the runner drives it, without a runner."""
    window = window or GlobalWindow()
    fn.start_bundle()
    out = [v for feed in feeds for v in fn.process(feed, timestamp or Timestamp(0), window)]
    out += list(fn.finish_bundle())
    return out


def test_feeds_on_other_hosts_are_read_while_one_host_waits_out_its_gap(feed_server):
    with LoopbackServer(SAMPLES, host="127.0.0.2") as other:
        slow_host = [FeedSpec(name="afp", url=feed_server.url("afp-europe.atom")),
                     FeedSpec(name="ap", url=feed_server.url("ap-world.xml"))]
        fast_host = [FeedSpec(name="kyodo", url=other.url("kyodo-japan.xml"))]
        fn = _Watched(ReadOptions(es=None, timeout=5.0, min_gap=0.5, full_text=False, concurrency=2))
        fn.setup()
        try:
            out = _bundle(fn, slow_host + fast_host, Timestamp(42))
        finally:
            fn.teardown()
    feeds_in_order = list(dict.fromkeys(v.value.feed_name for v in out))
    # Read one after the other, kyodo would come last, after ap's half-second gap on the first host.
    assert feeds_in_order[-1] == "ap" and set(feeds_in_order) == {"afp", "ap", "kyodo"}
    assert fn.most == {"127.0.0.1": 1, "127.0.0.2": 1} and fn.most_overall == 2
    assert {v.timestamp for v in out} == {Timestamp(42)} and all(v.windows == [GlobalWindow()] for v in out)


def test_read_ahead_is_bounded_by_articles_not_feeds(feed_server):
    with LoopbackServer(SAMPLES, host="127.0.0.2") as other:
        feeds = [FeedSpec(name="afp", url=feed_server.url("afp-europe.atom")),
                 FeedSpec(name="ap", url=feed_server.url("ap-world.xml")),
                 FeedSpec(name="kyodo", url=other.url("kyodo-japan.xml"))]
        seen = {}
        for read_ahead in (1, 500):
            fn = _Watched(ReadOptions(es=None, timeout=5.0, min_gap=0.5, full_text=False, concurrency=2,
                                      read_ahead=read_ahead))
            fn.setup()
            try:
                out = _bundle(fn, feeds)
            finally:
                fn.teardown()
            seen[read_ahead] = (fn.most_overall, list(dict.fromkeys(v.value.feed_name for v in out)),
                                sorted(v.value.id for v in out))
    # Every feed lists several stories: with room for one article a worker polls one feed at a time, in
    # turn (kyodo waits for ap's gap); with room for 500, kyodo is read while ap waits out its host's gap.
    assert seen[1][:2] == (1, ["afp", "ap", "kyodo"])
    assert seen[500][:2] == (2, ["afp", "kyodo", "ap"])
    assert seen[1][2] == seen[500][2] and seen[1][2]


def test_read_ahead_emits_every_feed_once_whatever_the_concurrency(feed_server):
    names = sorted(p.name for p in SAMPLES.iterdir() if p.is_file())
    feeds = [FeedSpec(name=n.split(".")[0], url=feed_server.url(n)) for n in names]
    expected = None
    for concurrency in (1, 3):
        fn = _Watched(ReadOptions(es=None, timeout=5.0, min_gap=0.0, full_text=False, concurrency=concurrency))
        fn.setup()
        try:
            ids = sorted(v.value.id for v in _bundle(fn, feeds))
        finally:
            fn.teardown()
        assert fn.most == {"127.0.0.1": 1}  # one host: its feeds are polled in turn, never side by side
        assert len(ids) == len(set(ids)) and ids
        expected = expected or ids
        assert ids == expected


def test_a_poll_counts_the_time_it_waited_at_the_host_gate(feed_server):
    fn = _ReadFeedFn(ReadOptions(es=None, timeout=5.0, min_gap=0.3, full_text=False))
    fn.setup()
    try:
        fn.poll(FeedSpec(name="afp", url=feed_server.url("afp-europe.atom")))
        second = fn.poll(FeedSpec(name="ap", url=feed_server.url("ap-world.xml")))
    finally:
        fn.teardown()
    assert 0 < second.counts["politeness_wait_ms"] <= 300
