"""Feed bytes to Articles: fields, dates, URLs, ids, encodings and ill-formed input."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.conftest import DATA as TEST_DATA
from transforms.article import FeedSpec
from transforms.sources.dates import fallback_date
from transforms.sources.feeds import article_id, parse_feed
from transforms.sources.jsonfeed import read_json_feed

DATA = TEST_DATA / "ingest"
NOW = datetime(2026, 11, 29, 6, 0, tzinfo=timezone.utc)
FEED = FeedSpec(name="desk", url="http://feeds.example.com/desk.xml", agency="reuters")


def _parse(name: str, url: str = "http://feeds.example.com/feed.xml", headers: dict | None = None):
    body = (DATA / name).read_bytes()
    return parse_feed(body, headers or {"Content-Type": "application/xml"}, FEED, url, NOW)


def test_atom_fields_and_xml_base():
    res = _parse("atom_base.atom")
    assert res.bozo is None and res.error_kind is None and res.feed_title == "Example World"
    one, two, three, four = res.articles
    assert one.title == "Relative link, tracking parameters"
    assert one.url == "https://News.Example.org/world/2026/11/28/story-one.html?utm_source=rss&utm_medium=feed&page=2#comments"
    assert one.canonical_url == "https://news.example.org/world/2026/11/28/story-one.html?page=2"
    assert one.guid == "tag:news.example.org,2026:one"
    assert one.published_at == "2026-11-28T08:30:00Z" and one.updated_at == "2026-11-28T10:00:00Z"
    assert one.date_source == "published" and one.first_seen_at == "2026-11-29T06:00:00Z"
    assert one.authors == ["Marie Dupont", "Jean Martin"]
    assert one.categories == ["Politique", "europe"]
    assert "<p>First paragraph.</p>" in one.content_html and 'href="https://News.Example.org/other"' in one.content_html
    assert one.summary_html == "<p>Short teaser.</p>"
    assert {e["url"] for e in one.enclosures} == {"https://News.Example.org/media/one.mp3",
                                                  "https://cdn.example.org/one.jpg"}
    mp3 = next(e for e in one.enclosures if e["url"].endswith(".mp3"))
    assert mp3["type"] == "audio/mpeg" and mp3["length"] == 12345
    assert one.language_hint == "fr" and one.source_domain == "news.example.org"
    assert one.agency == "reuters" and one.feed_name == "desk" and one.source_name == "Example World"
    # an entry's own xml:base and language win
    assert two.canonical_url == "https://other.example.net/base/item?id=7"
    assert two.language_hint == "en"
    assert two.date_source == "updated" and two.published_at is None and two.updated_at == "2026-11-27T08:00:00Z"
    assert three.date_source == "first_seen" and three.published_at is None and three.first_seen_at
    assert "published_in_future" in four.flags and four.published_at == "2031-01-01T00:00:00Z"
    assert not one.flags and not three.flags


def test_rss_fields_ids_and_missing_parts():
    res = _parse("rss_plain.xml")
    first, second, third = res.articles
    assert first.published_at == "2026-11-26T22:15:00Z"
    assert first.authors == ["Desk Reporter"] and first.language_hint == "en-gb"
    assert first.content_html == "<p>Full body</p>" and first.summary_html == "<p>Teaser</p>"
    assert first.enclosures == [{"url": "http://wire.example.com/a/1.jpg", "source": "enclosure",
                                 "type": "image/jpeg", "length": 999}]
    # a bare guid is scoped to its feed; a URL-less, guid-less item still gets a stable id
    assert first.id == article_id("1", first.canonical_url, "desk") != article_id("1", "", "other-feed")
    assert second.guid == "" and second.canonical_url == "http://wire.example.com/a/2"
    assert second.id == article_id("", "http://wire.example.com/a/2", "desk")
    assert "unparsed_date" in second.flags and second.date_source == "first_seen"
    assert third.canonical_url == "" and "no_guid_no_link" in third.flags and third.guid.startswith("content:")
    assert len({a.id for a in res.articles}) == 3


def test_ids_are_deterministic_across_runs():
    a = _parse("atom_base.atom")
    b = parse_feed((DATA / "atom_base.atom").read_bytes(), {}, FEED, "http://elsewhere.example/f.xml",
                   datetime(2027, 1, 1, tzinfo=timezone.utc))
    assert [x.id for x in a.articles] == [x.id for x in b.articles]
    assert article_id("tag:x,2026:1", "", "a") == article_id("tag:x,2026:1", "", "b")  # a URI guid is global


def test_ill_formed_feed_keeps_every_entry_and_says_why():
    res = _parse("rss_illformed.xml")
    assert res.bozo and "not well-formed" in res.bozo
    assert [a.title for a in res.articles] == ["Fish & chips", "Second"]
    assert res.error_kind is None


SAMPLE = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Ünïcödé</title><item><title>{t}</title>'
          '<link>http://x.example/1</link></item></channel></rss>')


@pytest.mark.parametrize("encode", [
    lambda s: b"\xef\xbb\xbf" + s.encode("utf-8"),
    lambda s: s.encode("utf-16"),  # with its BOM
    lambda s: b"\xff\xfe" + s.encode("utf-16-le"),
])
def test_byte_order_marks_decide_the_encoding(encode):
    res = parse_feed(encode(SAMPLE.format(t="Zürich – café")), {}, FEED, "http://x.example/f", NOW)
    assert [a.title for a in res.articles] == ["Zürich – café"]


def test_http_charset_wins_over_the_document():
    body = SAMPLE.format(t="Señal").replace('<?xml version="1.0"?>', "").encode("iso-8859-1")
    res = parse_feed(body, {"Content-Type": "application/rss+xml; charset=iso-8859-1"}, FEED, "http://x.example/f",
                     NOW)
    assert [a.title for a in res.articles] == ["Señal"]


def test_latin1_without_declaration_is_still_read():
    body = SAMPLE.format(t="Notícias de São Paulo").replace('<?xml version="1.0"?>', "").encode("iso-8859-1")
    res = parse_feed(body, {"Content-Type": "application/xml"}, FEED, "http://x.example/f", NOW)
    assert [a.title for a in res.articles] == ["Notícias de São Paulo"]


def test_not_a_feed_and_empty_feed():
    html = b"<!DOCTYPE html><html><head><title>x</title></head><body>hi</body></html>"
    res = parse_feed(html, {"Content-Type": "text/html"}, FEED, "http://x.example/", NOW)
    assert res.error_kind == "not_a_feed" and "HTML" in res.error
    res = parse_feed(b"\x00\x01garbage", {}, FEED, "http://x.example/", NOW)
    assert res.error_kind == "not_a_feed"
    empty = b'<rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    res = parse_feed(empty, {}, FEED, "http://x.example/", NOW)
    assert res.error_kind is None and res.articles == []


def test_json_feed():
    body = (b'{"version": "https://jsonfeed.org/version/1.1", "title": "J", "home_page_url": "https://j.example/",'
            b' "language": "de", "items": [{"id": "a1", "url": "/posts/1?utm_source=x", "title": "Eins",'
            b' "content_html": "<p>Hallo</p><script>alert(1)</script>", "date_published": "2026-11-28T10:00:00+02:00",'
            b' "authors": [{"name": "Anna"}], "tags": ["x"],'
            b' "attachments": [{"url": "https://j.example/a.mp3", "mime_type": "audio/mpeg"}]}]}')
    assert read_json_feed(b"[1, 2]", "https://j.example/") is None
    res = parse_feed(body, {"Content-Type": "application/feed+json"}, FEED, "https://j.example/feed.json", NOW)
    [a] = res.articles
    assert a.canonical_url == "https://j.example/posts/1" and a.title == "Eins" and a.content_html == "<p>Hallo</p>"
    assert a.published_at == "2026-11-28T08:00:00Z" and a.authors == ["Anna"] and a.language_hint == "de"
    assert a.enclosures[0]["url"] == "https://j.example/a.mp3" and res.feed_title == "J"


def test_dates_in_other_languages():
    assert fallback_date("Seg, 24 Set 2018 19:42:40 -0300") == datetime(2018, 9, 24, 22, 42, 40, tzinfo=timezone.utc)
    assert fallback_date("lun., 3 févr. 2025 08:00:00 +0100") == datetime(2025, 2, 3, 7, 0, tzinfo=timezone.utc)
    assert fallback_date("Di, 10 Dez 2024 12:00 GMT") == datetime(2024, 12, 10, 12, 0, tzinfo=timezone.utc)
    assert fallback_date("yesterday") is None and fallback_date(None) is None


def test_a_file_feed_resolves_relative_links_against_its_site(tmp_path):
    body = (b'<rss version="2.0"><channel><title>T</title><link>https://site.example/</link>'
            b"<item><title>a</title><link>/news/1</link><guid>/news/1</guid></item></channel></rss>")
    path = tmp_path / "feed.xml"
    path.write_bytes(body)
    res = parse_feed(body, {}, FEED, str(path), NOW)
    assert res.articles[0].canonical_url == "https://site.example/news/1"


def test_html_titles_become_plain_text():
    body = (b'<feed xmlns="http://www.w3.org/2005/Atom"><title>F</title><entry><id>urn:a</id>'
            b'<title type="html">Fish &amp;amp; &lt;b&gt;chips&lt;/b&gt;</title></entry>'
            b'<entry><id>urn:b</id><title>A &lt;b&gt; is literal here</title></entry></feed>')
    a, b = parse_feed(body, {}, FEED, "http://x.example/f", NOW).articles
    assert a.title == "Fish & chips"
    assert b.title == "A <b> is literal here"
