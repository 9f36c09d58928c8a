"""Canonical URLs: one spelling per article."""

from __future__ import annotations

import pytest

from transforms.sources.urls import canonical_url, host_of, is_tracking_param, strip_tracking


@pytest.mark.parametrize("raw,base,expected", [
    ("HTTP://WWW.Example.COM:80/a/b?b=2&a=1", None, "http://www.example.com/a/b?a=1&b=2"),
    ("https://example.com:443/x#section", None, "https://example.com/x"),
    ("https://example.com:8443/x", None, "https://example.com:8443/x"),
    ("https://example.com/p?utm_source=rss&utm_medium=feed&id=5", None, "https://example.com/p?id=5"),
    ("https://example.com/p?fbclid=1&gclid=2&mc_cid=3&_ga=4&msclkid=5", None, "https://example.com/p"),
    ("https://example.com/p?source=wire&ref=home&eid=9", None, "https://example.com/p?eid=9&ref=home&source=wire"),
    ("/news/1?utm_campaign=x", "https://site.example/feeds/all.xml", "https://site.example/news/1"),
    ("story.html", "https://site.example/world/", "https://site.example/world/story.html"),
    ("https://example.com/a/../b/./c", None, "https://example.com/b/c"),
    ("https://example.com/caf%c3%a9", None, "https://example.com/caf%C3%A9"),
    ("http://bücher.example/straße", None, "http://xn--bcher-kva.example/stra%C3%9Fe"),
    ("https://user:secret@example.com/x", None, "https://example.com/x"),
    ("https://example.com", None, "https://example.com/"),
    ("  https://example.com/wrapped\n/path ", None, "https://example.com/wrapped/path"),
    ("mailto:desk@example.com", None, ""),
    ("javascript:alert(1)", None, ""),
    ("", None, ""),
    (None, None, ""),
])
def test_canonical_url(raw, base, expected):
    assert canonical_url(raw, base) == expected


def test_canonical_url_is_idempotent():
    once = canonical_url("HTTP://Example.com:80/a?utm_source=x&z=1&a=2#f")
    assert canonical_url(once) == once


def test_tracking_params():
    assert is_tracking_param("utm_content") and is_tracking_param("UTM_Source") and is_tracking_param("fbclid")
    assert not is_tracking_param("id") and not is_tracking_param("page")
    assert strip_tracking("http://x.example/p?a=1&utm_x=2#frag") == "http://x.example/p?a=1"


def test_host_of():
    assert host_of("https://www.Reuters.com/world") == "reuters.com"
    assert host_of("https://news.example.org/") == "news.example.org"
    assert host_of("") == "" and host_of(None) == ""
