"""Full text: the article page's main text, its own charset honoured, the feed's text kept when better."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.conftest import DATA
from tests.loopback import Route
from transforms.article import Article
from transforms.sources.fulltext import FullText, decode_page, page_charset, paragraphs_html
from transforms.sources.http_client import HttpClient
from transforms.sources.politeness import HostGate

PAGE = DATA / "ingest" / "article_page.html"


def _article(url: str, content: str = "<p>Der Hamburger Hafen hat einen Rekord gemeldet.</p>") -> Article:
    return Article(id="x", guid="g", url=url, canonical_url=url, title="Hafen", content_html=content)


@pytest.fixture
def full_text():
    http = HttpClient(gate=HostGate(min_gap=0.0), timeout=5.0)
    yield FullText(http)
    http.close()


def test_page_text_replaces_a_teaser_with_paragraphs(feed_server, full_text):
    body = PAGE.read_text(encoding="utf-8").encode("cp1252")
    feed_server.routes["/a.html"] = Route(body=body, headers={"Content-Type": "text/html"})  # charset in <meta>
    art = full_text(_article(feed_server.url("a.html")))
    assert art.flags == ["fulltext:extracted"]
    assert art.content_html.startswith("<p>") and art.content_html.count("<p>") >= 4
    assert "gegenüber dem Vorjahr" in art.content_html and "Uferzonen" in art.content_html
    assert "Impressum" not in art.content_html and "Strände" not in art.content_html


def test_header_charset_wins_over_meta(feed_server, full_text):
    html = PAGE.read_text(encoding="utf-8").replace('charset="windows-1252"', 'charset="utf-8"').replace("–", "-")
    feed_server.routes["/b.html"] = Route(body=html.encode("iso-8859-1"),
                                          headers={"Content-Type": "text/html; charset=ISO-8859-1"})
    art = full_text(_article(feed_server.url("b.html")))
    assert "Müller" in art.content_html or "gegenüber" in art.content_html
    assert "\ufffd" not in art.content_html


def test_feed_text_kept_when_longer(feed_server, full_text):
    feed_server.routes["/c.html"] = Route(body=PAGE.read_bytes(), headers={"Content-Type": "text/html"})
    long_feed = "<p>" + "Ein sehr langer Feedtext. " * 200 + "</p>"
    art = full_text(_article(feed_server.url("c.html"), long_feed))
    assert art.content_html == long_feed and art.flags == ["fulltext:shorter_than_feed"]


def test_fetch_failure_and_empty_page_are_flagged(feed_server, full_text):
    feed_server.routes["/gone.html"] = Route(status=404)
    art = full_text(_article(feed_server.url("gone.html")))
    assert art.flags == ["fulltext:fetch_http_status"] and "Rekord" in art.content_html
    feed_server.routes["/empty.html"] = Route(body=b"<html><body></body></html>", headers={"Content-Type": "text/html"})
    assert full_text(_article(feed_server.url("empty.html"))).flags == ["fulltext:empty"]
    assert full_text(_article("")).flags == ["fulltext:no_url"]


def test_charset_helpers():
    assert page_charset({"Content-Type": "text/html; charset=Shift_JIS"}, b"") == "Shift_JIS"
    assert page_charset({}, b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">') == \
        "gb2312"
    assert page_charset({}, b"<html>") is None
    assert decode_page("中文".encode("gb2312"), {"Content-Type": "text/html; charset=gb2312"}) == "中文"
    text = "Le café de la gare a été fermé à Noël, après des années très animées."
    guessed = decode_page(text.encode("cp1252"), {"Content-Type": "text/html; charset=bogus"})  # detection
    assert "café" in guessed and "été fermé" in guessed and "\ufffd" not in guessed
    assert decode_page(b"\xef\xbb\xbfok", {"Content-Type": "text/html; charset=latin-1"}) == "ok"
    assert paragraphs_html("a < b\n\nsecond") == "<p>a &lt; b</p>\n<p>second</p>"


def test_pages_are_fetched_under_the_address_policy_of_the_feed_that_named_them():
    calls = []

    class RecordingHttp:
        def get(self, url, **kwargs):
            calls.append((url, kwargs.get("linked_from")))
            return SimpleNamespace(body=b"<html><body></body></html>", headers={"content-type": "text/html"})

    art = Article(id="1", guid="g", url="http://news.example.org/a", canonical_url="http://news.example.org/a",
                  title="T", feed_url="http://feeds.example.org/world.xml")
    FullText(RecordingHttp())(art)
    assert calls == [("http://news.example.org/a", "http://feeds.example.org/world.xml")]
