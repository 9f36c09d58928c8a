"""Hostile feeds end as a named error for that feed, in bounded time and memory, and fetch nothing more.

First each one alone, through the same ``process_feed`` a run uses (a real HTTP client against a
loopback server), with the Python heap traced and every outgoing connection recorded; then all of them
in one `wirenews run` next to good feeds and a feed full of markup and control characters: the good
stories are indexed once, the markup is stored as plain text, and each hostile feed's state names its
error.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
import tracemalloc
from datetime import datetime, timezone

import pytest
import urllib3.util.connection

from tests.conftest import REPO
from tests.loopback import LoopbackServer, Route
from tests.reliability.conftest import (
    EXPECTED_STORIES,
    Row,
    feed_states,
    record,
    run_env,
    sample_feeds,
    stored,
    wirenews_cmd,
    write_config,
)
from tests.reliability.hostile import (
    INJECTION_ITEMS,
    INVALID_UTF8,
    MB,
    VISIBLE_WORDS,
    Hostile,
    injection_feed,
    install,
)
from transforms.article import FeedSpec
from transforms.sources.errors import FetchError
from transforms.sources.http_client import HttpClient
from transforms.sources.poll import process_feed

pytestmark = [pytest.mark.reliability]

FETCH_TIMEOUT = 3.0
MAX_BYTES = 10_000_000
HEAP_BOUND = 64 * MB  # a feed may cost its capped body and a little more, never what it claims to be
SECRET = "wirenews-test-secret-4f1d"


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    secret = tmp_path_factory.mktemp("secret") / "secret.txt"
    secret.write_text(SECRET)
    with LoopbackServer() as srv:
        feeds, served = install(srv, secret)
        srv.routes["/injection"] = Route(body=injection_feed(),
                                         headers={"Content-Type": "application/rss+xml; charset=utf-8"})
        srv.routes["/invalid-utf8"] = Route(body=INVALID_UTF8,
                                            headers={"Content-Type": "application/rss+xml; charset=utf-8"})
        yield srv, feeds, served


@pytest.fixture(scope="module")
def connections():
    """Every address the process connects to while the tests of this module run."""
    seen: list[str] = []
    original = urllib3.util.connection.create_connection

    def recording(address, *args, **kwargs):
        seen.append(str(address[0]))
        return original(address, *args, **kwargs)

    urllib3.util.connection.create_connection = recording  # urllib3.connection calls it through the module
    yield seen
    urllib3.util.connection.create_connection = original


def _poll(feed: Hostile, url: str) -> tuple[object, float, int]:
    """process_feed on one feed in a worker thread (a bounded wait), heap traced."""
    http = HttpClient(timeout=FETCH_TIMEOUT, max_bytes=MAX_BYTES, min_gap=0)
    box: dict[str, object] = {}

    def work() -> None:
        box["out"] = process_feed(FeedSpec(name=feed.name, url=url), None, http, datetime.now(timezone.utc),
                                  retries=0)

    tracemalloc.start()
    started = time.monotonic()
    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(timeout=60)
    elapsed = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    http.close()
    assert not worker.is_alive(), f"{feed.name}: still fetching after 60 s"
    return box["out"], elapsed, peak


def test_each_hostile_feed_ends_in_its_named_error(hostile_server, connections):
    srv, feeds, served = hostile_server
    rows = []
    for feed in feeds:
        out, elapsed, peak = _poll(feed, srv.url(f"/{feed.name}"))
        assert out.status == "failed", (feed.name, out.status, out.errors)
        kinds = [kind for _, kind, _ in out.errors]
        assert kinds == [feed.kind], (feed.name, out.errors)
        assert out.articles == []
        assert out.state.last_error_kind == feed.kind
        assert peak < HEAP_BOUND, f"{feed.name}: {peak / MB:.0f} MB of heap"
        rows.append((feed, elapsed, peak))
    hits = [path for _, path, _ in srv.requests if path.startswith("/hit")]
    assert hits == [], f"an external entity or DTD was fetched: {hits}"
    assert set(connections) <= {"127.0.0.1"}, f"connected beyond loopback: {sorted(set(connections))}"
    # The streaming routes were left early, far from their 200 MB.
    assert served.sent.get("huge-chunked", 0) < 5 * MAX_BYTES
    assert served.sent.get("huge-declared", 0) < 5 * MAX_BYTES
    for feed, elapsed, peak in rows:
        record(Row(f"feed: {feed.what}", 0, 0, 0, 0, elapsed,
                   f"failed `{feed.kind}`; heap peak {peak / MB:.1f} MB"))


def test_invalid_utf8_keeps_its_story_and_names_the_problem(hostile_server):
    """Not an error: the feed is read in another encoding, as feedparser decides, and the problem is counted."""
    srv, _, _ = hostile_server
    out, _, peak = _poll(Hostile("invalid-utf8", "", ""), srv.url("/invalid-utf8"))
    assert out.status == "fetched" and out.errors == []
    assert out.counts["feeds_bozo"] == 1 and out.counts["bozo_character_encoding_override"] == 1
    [article] = out.articles
    assert article.guid == "urn:invalid-utf8:1" and "talks" in article.title and "Friday" in article.summary_html
    assert peak < HEAP_BOUND


def test_a_redirect_to_a_private_address_is_refused_before_any_connection(hostile_server, connections):
    srv, _, _ = hostile_server
    connections.clear()
    http = HttpClient(timeout=FETCH_TIMEOUT, min_gap=0)
    out = process_feed(FeedSpec(name="redirect-private", url=srv.url("/redirect-private")), None, http,
                       datetime.now(timezone.utc), retries=0)
    http.close()
    assert out.errors[0][1] == "redirect_blocked"
    assert "10.0.0.1" in out.errors[0][2]
    assert connections == ["127.0.0.1"]  # the feed's own server, and nothing else


def test_a_redirect_to_loopback_from_loopback_is_followed(hostile_server):
    srv, _, _ = hostile_server
    srv.routes["/moved"] = Route(status=301, headers={"Location": f"http://localhost:{srv.port}/injection"})
    http = HttpClient(timeout=FETCH_TIMEOUT, min_gap=0)
    out = process_feed(FeedSpec(name="moved", url=srv.url("/moved")), None, http, datetime.now(timezone.utc))
    http.close()
    assert out.status == "fetched" and len(out.articles) == len(INJECTION_ITEMS)


GOOD_FEEDS = ("xinhua-world", "reuters-business", "afp-europe")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MARKUP = re.compile(r"<\s*/?\s*(script|img|iframe|object|style|b|a|p)\b|onerror|onmouseover|javascript:", re.I)


def test_one_run_with_every_hostile_feed_beside_good_ones(tmp_path, hostile_server, sample_server, es_settings,
                                                          es_client, clock):
    srv, hostile, _ = hostile_server
    good = [f for f in sample_feeds(sample_server.port) if f["name"] in GOOD_FEEDS]
    feeds = good + [{"name": "injection", "url": srv.url("/injection")},
                    {"name": "invalid-utf8", "url": srv.url("/invalid-utf8")}] + [
        {"name": h.name, "url": srv.url(f"/{h.name}")} for h in hostile]
    cfg = write_config(tmp_path / "c.yaml", es_settings.hosts, es_settings.index, feeds,
                       fetch={"timeout": FETCH_TIMEOUT, "max_bytes": MAX_BYTES})
    before = len(srv.requests)
    with open(tmp_path / "run.log", "wb") as log:
        proc = subprocess.Popen([*wirenews_cmd(), "run", "-c", str(cfg), "--max-failures", str(len(hostile))],
                                cwd=REPO, env=run_env(tmp_path), stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    output = (tmp_path / "run.log").read_text(errors="replace")
    assert proc.returncode == 0, output[-5000:]
    peak_rss_mb = usage.ru_maxrss / 1024
    assert peak_rss_mb < 1500, f"wirenews run peaked at {peak_rss_mb:.0f} MB"

    expected = {g for g, s in EXPECTED_STORIES.items() if s["feed"] in GOOD_FEEDS}
    injected = {guid for guid, _, _ in INJECTION_ITEMS}
    got = stored(es_client, es_settings.index, tmp_path / "deadletter.ndjson")
    assert set(got.guids) == expected | injected | {"urn:invalid-utf8:1"}
    assert "feed invalid-utf8: ill-formed (CharacterEncodingOverride" in output
    assert got.duplicated == 0 and got.dead_lettered == 0

    states, pending = feed_states(es_client, es_settings.index)
    assert pending == []
    for h in hostile:
        assert states[h.name]["last_status"] == "failed", h.name
        assert states[h.name]["last_error_kind"] == h.kind, (h.name, states[h.name]["last_error"])
        assert re.search(rf"feed {re.escape(h.name)}: {h.kind}:", output), f"{h.name}: error not logged"
    assert not [p for _, p, _ in srv.requests[before:] if p.startswith("/hit")]
    assert SECRET not in output

    es_client.indices.refresh(index=es_settings.index)
    docs = {h["_source"]["guid"]: h["_source"] for h in es_client.search(
        index=es_settings.index, size=100, query={"terms": {"guid": sorted(injected)}})["hits"]["hits"]}
    for guid, doc in docs.items():
        for name in ("title", "summary", "body"):
            text = doc.get(name) or ""
            assert not CONTROL.search(text), (guid, name, text)
            if name != "title":  # a title is the feed's own text, kept as written (escaped markup included)
                assert not MARKUP.search(text), (guid, name, text)
        for words in VISIBLE_WORDS[guid]:
            assert words in doc["body"], (guid, words, doc["body"])
    assert "<script>" not in docs["urn:inject:script"]["body"]
    # A title is text: markup that was escaped in the feed stays the literal characters, stored as text.
    assert docs["urn:inject:script"]["title"] == "Minister <script>alert('t')</script> resigns"
    assert docs["urn:inject:control"]["title"] == "Market report[31m red\u202e tfel"
    kept = expected | injected | {"urn:invalid-utf8:1"}
    record(Row(f"one run: {len(hostile)} hostile feeds beside {len(GOOD_FEEDS)} good feeds, a markup feed and "
               "an invalid UTF-8 feed", len(kept), got.indexed(kept), got.duplicated, got.dead_lettered, clock.seconds,
               f"exit 0 with --max-failures {len(hostile)}; every hostile feed failed by name; the invalid "
               f"UTF-8 story kept (bozo `character_encoding_override`); peak RSS {peak_rss_mb:.0f} MB"))


def test_a_page_a_feed_links_to_is_held_to_the_redirect_policy(hostile_server, connections):
    """``linked_from``: an article URL named by a feed may not point at a private address either."""
    srv, _, _ = hostile_server
    connections.clear()
    http = HttpClient(timeout=FETCH_TIMEOUT, min_gap=0)
    with pytest.raises(FetchError) as info:
        http.get("http://10.0.0.1/article.html", linked_from=srv.url("/injection"))
    assert info.value.kind == "redirect_blocked"
    with pytest.raises(FetchError) as info:
        http.get("file:///etc/passwd", linked_from=srv.url("/injection"))
    assert info.value.kind == "redirect"
    page = http.get(srv.url("/injection"), linked_from=srv.url("/injection"))  # loopback from loopback
    http.close()
    assert page.status == 200
    assert connections == ["127.0.0.1"]


def test_gzip_members_are_all_read_and_capped_together(hostile_server):
    """RFC 1952 allows several members in one body: a feed split in two is read whole, and a bomb of
    many small members meets the same cap as one big one."""
    import gzip

    from tests.reliability.hostile import rss

    srv, _, _ = hostile_server
    whole = injection_feed()
    half = len(whole) // 2
    gz = {"Content-Type": "application/rss+xml; charset=utf-8", "Content-Encoding": "gzip"}
    srv.routes["/two-members"] = Route(body=gzip.compress(whole[:half]) + gzip.compress(whole[half:]), headers=gz)
    head = rss("").split(b"</channel>")[0] + b"<!--"
    members = gzip.compress(head) + gzip.compress(b"\0" * MB) * 40  # 40 MB in 40 members of 1 MB
    srv.routes["/member-bomb"] = Route(body=members, headers=gz)
    split, _, _ = _poll(Hostile("two-members", "", ""), srv.url("/two-members"))
    assert split.status == "fetched" and len(split.articles) == len(INJECTION_ITEMS)
    bomb, _, peak = _poll(Hostile("member-bomb", "too_large", ""), srv.url("/member-bomb"))
    assert [kind for _, kind, _ in bomb.errors] == ["too_large"]
    assert peak < HEAP_BOUND
