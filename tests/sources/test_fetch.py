"""The HTTP layer and one poll of a feed, against scripted loopback responses."""

from __future__ import annotations

import gzip
import random
import threading
import time
import zlib
from datetime import datetime, timedelta, timezone

import pytest

from tests.loopback import Route
from transforms.article import FeedSpec
from transforms.sources.feed_state import initial_state, on_success
from transforms.sources.feeds import parse_feed
from transforms.sources.fetch import fetch_feed
from transforms.sources.http_client import HttpClient
from transforms.sources.politeness import HostGate, parse_retry_after
from transforms.sources.poll import process_feed

NOW = datetime(2026, 11, 29, 6, 0, tzinfo=timezone.utc)
RSS = (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
       b"<link>http://example.com/</link><item><title>One</title><link>http://example.com/1</link>"
       b"<guid>urn:x:1</guid></item></channel></rss>")


@pytest.fixture(scope="module")
def _server():
    from tests.conftest import SAMPLES
    from tests.loopback import LoopbackServer

    with LoopbackServer(SAMPLES) as srv:
        yield srv


@pytest.fixture
def feed_server(_server):
    """One loopback server for the module (shutting one down costs half a second), reset per test."""
    _server.routes.clear()
    _server.requests.clear()
    return _server


@pytest.fixture
def http():
    client = HttpClient(gate=HostGate(min_gap=0.0, max_wait=5.0), timeout=3.0, max_bytes=100_000)
    yield client
    client.close()


def _feed(srv, path: str, name: str = "f") -> FeedSpec:
    return FeedSpec(name=name, url=srv.url(path))


def _poll(feed, state, http, **kw):
    [res] = fetch_feed(feed, state, http, NOW, rng=random.Random(1), sleep=lambda s: None, **kw)
    return res


def test_second_poll_sends_validators_and_gets_304(feed_server, http):
    feed = _feed(feed_server, "xinhua-world.xml")
    state = initial_state(feed.name, feed.url)
    first = _poll(feed, state, http)
    assert first.status == "fetched" and first.http_status == 200 and first.body.startswith(b"<?xml")
    state = on_success(state, NOW, 300, changed=True, etag=first.headers.get("etag"),
                       last_modified=first.headers.get("last-modified"), body_hash=first.body_hash)
    second = _poll(feed, state, http)
    assert second.status == "unchanged" and second.http_status == 304 and second.body == b""
    sent = feed_server.requests[-1][2]
    assert sent["If-None-Match"] == first.headers["etag"]
    assert sent["If-Modified-Since"] == first.headers["last-modified"]
    assert sent["User-Agent"].startswith("wirenews/")


def test_new_etag_with_the_same_body_is_unchanged(feed_server, http):
    feed_server.routes["/rot.xml"] = Route(body=RSS, headers={"ETag": '"v1"', "Content-Type": "application/rss+xml"})
    feed = _feed(feed_server, "rot.xml")
    first = _poll(feed, initial_state(feed.name, feed.url), http)
    state = on_success(initial_state(feed.name, feed.url), NOW, 300, changed=True, etag='"v1"',
                       body_hash=first.body_hash)
    feed_server.routes["/rot.xml"] = Route(body=RSS, headers={"ETag": '"v2"'})
    second = _poll(feed, state, http)
    assert second.status == "unchanged" and second.http_status == 200 and second.headers["etag"] == '"v2"'
    feed_server.routes["/rot.xml"] = Route(body=RSS.replace(b"One", b"Two"), headers={"ETag": '"v2"'})
    third = _poll(feed, state, http)
    assert third.status == "fetched" and b"Two" in third.body


@pytest.mark.parametrize("code,permanent", [(301, True), (302, False), (307, False), (308, True)])
def test_redirects_are_followed_and_permanent_ones_recorded(feed_server, http, code, permanent):
    feed_server.routes["/old.xml"] = Route(status=code, headers={"Location": "/xinhua-world.xml"})
    feed = _feed(feed_server, "old.xml")
    res = _poll(feed, initial_state(feed.name, feed.url), http)
    assert res.status == "fetched" and res.url == feed_server.url("xinhua-world.xml")
    assert res.permanent_url == (feed_server.url("xinhua-world.xml") if permanent else None)
    out = process_feed(feed, None, http, NOW, rng=random.Random(1), sleep=lambda s: None)
    assert out.state.permanent_url == (res.url if permanent else None)
    if permanent:  # the next poll (once the feed's ttl of 5 minutes has passed) goes straight to the new address
        feed_server.requests.clear()
        process_feed(feed, out.state, http, NOW + timedelta(minutes=10))
        assert [p for (_, p, _) in feed_server.requests] == ["/xinhua-world.xml"]


def test_redirect_to_a_non_http_scheme_is_refused(feed_server, http):
    feed_server.routes["/evil.xml"] = Route(status=302, headers={"Location": "file:///etc/passwd"})
    res = _poll(_feed(feed_server, "evil.xml"), initial_state("f", feed_server.url("evil.xml")), http)
    assert res.status == "failed" and res.error_kind == "redirect"


def test_a_redirect_loop_stops(feed_server, http):
    feed_server.routes["/loop.xml"] = Route(status=302, headers={"Location": "/loop.xml"})
    res = _poll(_feed(feed_server, "loop.xml"), initial_state("f", feed_server.url("loop.xml")), http)
    assert res.status == "failed" and res.error_kind == "redirect"


@pytest.mark.parametrize("code", [404, 410, 500])
def test_error_statuses_fail_with_http_status(feed_server, http, code):
    feed_server.routes["/bad.xml"] = Route(status=code, body=b"nope")
    res = _poll(_feed(feed_server, "bad.xml"), initial_state("f", feed_server.url("bad.xml")), http)
    assert res.status == "failed" and res.error_kind == "http_status" and res.http_status == code


def test_a_500_is_retried_once_within_the_poll(feed_server, http):
    feed_server.routes["/flaky.xml"] = Route(status=500)
    res = _poll(_feed(feed_server, "flaky.xml"), initial_state("f", feed_server.url("flaky.xml")), http, retries=1)
    assert res.status == "failed"
    assert len([p for (_, p, _) in feed_server.requests if p == "/flaky.xml"]) == 2


def test_429_retry_after_is_honoured_and_kept_in_the_state(feed_server, http):
    feed_server.routes["/busy.xml"] = Route(status=429, headers={"Retry-After": "7200"})
    feed = _feed(feed_server, "busy.xml")
    res = _poll(feed, initial_state(feed.name, feed.url), http)
    assert res.status == "failed" and res.http_status == 429 and res.retry_after == 7200
    # not retried within the poll: the wait is longer than a poll may block
    assert len([p for (_, p, _) in feed_server.requests if p == "/busy.xml"]) == 1
    out = process_feed(feed, None, HttpClient(gate=HostGate(min_gap=0.0)), NOW, sleep=lambda s: None)
    nxt = datetime.fromisoformat(out.state.next_poll_at.replace("Z", "+00:00"))
    assert (nxt - NOW).total_seconds() >= 7200
    # and the next run skips the feed instead of asking again
    again = process_feed(feed, out.state, http, NOW)
    assert again.status == "skipped" and again.counts["feeds_skipped"] == 1


def test_503_with_a_short_retry_after_is_waited_for_then_retried(feed_server):
    calls = []

    def handler(req):
        calls.append(1)
        if len(calls) == 1:
            feed_server._send(req, 503, b"", {"Retry-After": "1"})
        else:
            feed_server._send(req, 200, RSS, {"Content-Type": "application/rss+xml"})

    feed_server.routes["/later.xml"] = Route(handler=handler)
    client = HttpClient(gate=HostGate(min_gap=0.0, max_wait=5.0), timeout=5.0)
    slept = []
    [res] = fetch_feed(_feed(feed_server, "later.xml"), initial_state("f", feed_server.url("later.xml")), client,
                       NOW, sleep=slept.append)
    assert res.status == "fetched" and slept == [1.0] and len(calls) == 2


def test_a_host_under_retry_after_is_not_asked_again_in_the_same_process(feed_server):
    gate = HostGate(min_gap=0.0, max_wait=5.0)
    client = HttpClient(gate=gate, timeout=3.0)
    feed_server.routes["/a.xml"] = Route(status=429, headers={"Retry-After": "600"})
    _poll(_feed(feed_server, "a.xml"), initial_state("a", feed_server.url("a.xml")), client)
    feed_server.requests.clear()
    res = _poll(_feed(feed_server, "xinhua-world.xml", "b"), initial_state("b", feed_server.url("xinhua-world.xml")),
                client)
    assert res.status == "failed" and res.error_kind == "host_backoff" and feed_server.requests == []


def test_a_slow_server_times_out(feed_server):
    feed_server.routes["/slow.xml"] = Route(body=RSS, delay=2.0)
    client = HttpClient(gate=HostGate(min_gap=0.0), timeout=0.5)
    res = _poll(_feed(feed_server, "slow.xml"), initial_state("f", feed_server.url("slow.xml")), client, retries=0)
    assert res.status == "failed" and res.error_kind == "timeout"


def test_a_trickling_body_hits_the_total_timeout(feed_server):
    def trickle(req):
        req.send_response(200)
        req.send_header("Content-Type", "application/rss+xml")
        req.end_headers()
        try:
            for _ in range(40):  # bounded: 40 x 0.1 s
                req.wfile.write(b" " * 10)
                req.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass

    feed_server.routes["/drip.xml"] = Route(handler=trickle)
    client = HttpClient(gate=HostGate(min_gap=0.0), timeout=1.0, read_timeout=0.5)
    res = _poll(_feed(feed_server, "drip.xml"), initial_state("f", feed_server.url("drip.xml")), client, retries=0)
    assert res.status == "failed" and res.error_kind == "timeout"


def test_an_oversized_body_is_cut_at_the_cap(feed_server, http):
    feed_server.routes["/big.xml"] = Route(body=b"x" * 200_000)
    res = _poll(_feed(feed_server, "big.xml"), initial_state("f", feed_server.url("big.xml")), http)
    assert res.status == "failed" and res.error_kind == "too_large"


def test_an_oversized_body_without_content_length_is_cut_while_streaming(feed_server, http):
    def chunked(req):
        req.send_response(200)
        req.send_header("Connection", "close")
        req.end_headers()
        try:
            for _ in range(30):
                req.wfile.write(b"y" * 10_000)
        except OSError:
            pass

    feed_server.routes["/stream.xml"] = Route(handler=chunked)
    res = _poll(_feed(feed_server, "stream.xml"), initial_state("f", feed_server.url("stream.xml")), http)
    assert res.status == "failed" and res.error_kind == "too_large"


def test_a_gzip_bomb_stops_at_the_cap(feed_server, http):
    bomb = gzip.compress(b"\0" * 50_000_000, compresslevel=9)
    assert len(bomb) < 100_000  # small on the wire, far over the cap once decoded
    feed_server.routes["/bomb.xml"] = Route(body=bomb, headers={"Content-Encoding": "gzip"})
    res = _poll(_feed(feed_server, "bomb.xml"), initial_state("f", feed_server.url("bomb.xml")), http)
    assert res.status == "failed" and res.error_kind == "too_large"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
def test_compressed_bodies_are_decoded(feed_server, http, encoding):
    if encoding == "gzip":
        body = gzip.compress(RSS)
    elif encoding == "deflate":
        body = zlib.compress(RSS)
    else:
        c = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        body = c.compress(RSS) + c.flush()
    name = encoding.split("-")[-1]
    feed_server.routes["/z.xml"] = Route(body=body, headers={"Content-Encoding": name})
    res = _poll(_feed(feed_server, "z.xml"), initial_state("f", feed_server.url("z.xml")), http)
    assert res.status == "fetched" and res.body == RSS
    assert "gzip" in feed_server.requests[-1][2]["Accept-Encoding"]


def test_corrupt_gzip_is_a_decode_error(feed_server, http):
    feed_server.routes["/broken.xml"] = Route(body=b"\x1f\x8b\x08\x00garbage", headers={"Content-Encoding": "gzip"})
    res = _poll(_feed(feed_server, "broken.xml"), initial_state("f", feed_server.url("broken.xml")), http)
    assert res.status == "failed" and res.error_kind == "decode"


def test_a_wrong_content_type_still_parses(feed_server, http):
    feed_server.routes["/odd"] = Route(body=RSS, headers={"Content-Type": "application/octet-stream"})
    feed = _feed(feed_server, "odd")
    res = _poll(feed, initial_state(feed.name, feed.url), http)
    parsed = parse_feed(res.body, res.headers, feed, res.url, NOW)
    assert [a.title for a in parsed.articles] == ["One"] and parsed.error_kind is None


def test_an_html_page_is_not_a_feed(feed_server, http):
    page = b"<!DOCTYPE html><html><head><title>Home</title></head><body><p>Welcome</p></body></html>"
    feed_server.routes["/home"] = Route(body=page, headers={"Content-Type": "text/html; charset=utf-8"})
    feed = _feed(feed_server, "home")
    out = process_feed(feed, None, http, NOW)
    assert out.status == "failed" and out.counts["feed_errors_not_a_feed"] == 1
    assert out.state.last_error_kind == "not_a_feed"


def test_connection_refused_is_connect(http):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    feed = FeedSpec(name="f", url=f"http://127.0.0.1:{port}/feed.xml")
    res = _poll(feed, initial_state(feed.name, feed.url), http, retries=0)
    assert res.status == "failed" and res.error_kind == "connect"


def test_a_bad_feed_does_not_touch_the_others(feed_server, http):
    feed_server.routes["/bad.xml"] = Route(status=500)
    bad = process_feed(_feed(feed_server, "bad.xml", "bad"), None, http, NOW, sleep=lambda s: None)
    good = process_feed(_feed(feed_server, "afp-europe.atom", "good"), None, http, NOW)
    assert bad.status == "failed" and good.status == "fetched" and good.articles


def test_politeness_keeps_one_request_at_a_time_and_a_gap_per_host():
    clock = [0.0]
    sleeps: list[float] = []

    def sleep(s: float) -> None:
        sleeps.append(s)
        clock[0] += s

    gate = HostGate(min_gap=2.0, max_wait=30.0, clock=lambda: clock[0], sleep=sleep)
    with gate.slot("a.example"):
        pass
    with gate.slot("b.example"):  # another host: no wait
        pass
    with gate.slot("a.example"):
        pass
    assert sleeps == [2.0] and gate.waited() == 2.0
    waits_elsewhere: list[float] = []
    other = threading.Thread(target=lambda: waits_elsewhere.append(gate.waited()))
    other.start()
    other.join()
    assert waits_elsewhere == [0.0]  # each thread sees only its own waiting
    gate.defer("a.example", 100.0)
    from transforms.sources.errors import FetchError

    with pytest.raises(FetchError) as e, gate.slot("a.example"):
        pass
    assert e.value.kind == "host_backoff"


def test_retry_after_forms():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480.0 - 60) == 60.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_tls_is_verified(tmp_path):
    import shutil
    import ssl
    import subprocess
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed: no self-signed certificate to test with")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True, timeout=60)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", str(len(RSS)))
            self.end_headers()
            self.wfile.write(RSS)

        def log_message(self, *args):
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"https://127.0.0.1:{httpd.server_address[1]}/feed.xml"
        client = HttpClient(gate=HostGate(min_gap=0.0), timeout=5.0)
        res = _poll(FeedSpec(name="f", url=url), initial_state("f", url), client, retries=0)
        assert res.status == "failed" and res.error_kind == "tls"  # a self-signed certificate is refused
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_dns_failures_are_named(monkeypatch, http):
    from urllib3.exceptions import NameResolutionError

    def fail(*args, **kwargs):
        raise NameResolutionError("feeds.example.invalid", None, OSError("Name or service not known"))

    monkeypatch.setattr(http.pool, "request", fail)  # no resolver is ever asked: tests stay on loopback
    res = _poll(FeedSpec(name="f", url="http://feeds.example.invalid/x"),
                initial_state("f", "http://feeds.example.invalid/x"), http, retries=0)
    assert res.status == "failed" and res.error_kind == "dns"


def test_only_http_urls_are_fetched(http):
    res = _poll(FeedSpec(name="f", url="ftp://example.com/x"), initial_state("f", "ftp://example.com/x"), http)
    assert res.status == "failed" and res.error_kind == "bad_url"
    from transforms.sources.errors import FetchError

    with pytest.raises(FetchError) as e:
        http.get("ftp://example.com/feed.xml")
    assert e.value.kind == "bad_url"


def test_one_request_at_a_time_per_host_across_threads(feed_server):
    import threading

    active, peak, lock = [0], [0], threading.Lock()

    def handler(req):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.1)
        with lock:
            active[0] -= 1
        feed_server._send(req, 200, RSS, {"Content-Type": "application/rss+xml"})

    feed_server.routes["/one.xml"] = Route(handler=handler)
    client = HttpClient(gate=HostGate(min_gap=0.0, max_wait=10.0), timeout=5.0, pool_maxsize=4)
    results = []
    threads = [threading.Thread(target=lambda: results.append(client.get(feed_server.url("one.xml")).status))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert results == [200, 200, 200, 200] and peak[0] == 1
