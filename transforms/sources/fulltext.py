"""Full text for feeds that only carry teasers: fetch the article page and keep its main text.

The page goes through the same ``HttpClient`` (cap, timeouts, per-host politeness). Bytes are decoded
with the page's own charset (HTTP header, then ``<meta>``), and trafilatura extracts the main text in
its precision mode. The result replaces the feed's text only when it is longer; otherwise the feed's
text stays and a ``flags`` entry says why.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable
from typing import Any

from charset_normalizer import from_bytes

from transforms.article import Article
from transforms.sources.errors import FetchError

log = logging.getLogger(__name__)

PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def page_charset(headers: dict[str, str], body: bytes) -> str | None:
    """The charset the page declares: Content-Type first (it wins in browsers), then a <meta> near the top."""
    ctype = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    m = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", ctype, re.IGNORECASE)
    if m:
        return m.group(1)
    m = _META_CHARSET.search(body[:4096])
    return m.group(1).decode("ascii") if m else None


def decode_page(body: bytes, headers: dict[str, str]) -> str:
    """Text of the page; a BOM wins, an unknown or wrong charset falls back to detection."""
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:].decode("utf-8", "replace")
    charset = page_charset(headers, body)
    if charset:
        try:
            return body.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        best = from_bytes(body).best()
        return str(best) if best is not None else body.decode("utf-8", "replace")


def extract_main_text(page: str, url: str) -> str:
    """trafilatura's main text, precision first, one paragraph per line; "" when nothing is found."""
    import trafilatura  # start-up: its import (about 0.7 s) is paid only by feeds that fetch full text

    text = trafilatura.extract(page, url=url, favor_precision=True, include_comments=False, include_tables=False,
                               output_format="txt", deduplicate=True)
    return (text or "").strip()


def paragraphs_html(text: str) -> str:
    """Plain paragraphs as <p> elements, so the clean stage treats them like feed HTML."""
    paras = [p.strip() for p in text.split("\n") if p.strip()]
    return "\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paras)


def visible_length(fragment: str) -> int:
    return len(_SPACE.sub(" ", html.unescape(_TAG.sub(" ", fragment or ""))).strip())


def apply_full_text(article: Article, fetched: Callable[[str], tuple[bytes, dict[str, str]]]) -> Article:
    """Replace the article's content by the page's main text when that is longer; flag why when not."""
    url = article.canonical_url or article.url
    if not url:
        article.flags.append("fulltext:no_url")
        return article
    try:
        body, headers = fetched(url)
    except FetchError as e:
        article.flags.append(f"fulltext:fetch_{e.kind}")
        log.info("full text for %s: %s: %s", url, e.kind, e.message)
        return article
    try:
        text = extract_main_text(decode_page(body, headers), url)
    except Exception as e:  # noqa: BLE001 - extraction problems keep the feed text
        article.flags.append("fulltext:extract_error")
        log.info("full text for %s: extraction failed: %s", url, e)
        return article
    if not text:
        article.flags.append("fulltext:empty")
        return article
    feed_len = max(visible_length(article.content_html), visible_length(article.summary_html))
    if len(text) <= feed_len:
        article.flags.append("fulltext:shorter_than_feed")
        return article
    article.content_html = paragraphs_html(text)
    article.flags.append("fulltext:extracted")
    return article


class FullText:
    """Callable used by ReadFeeds: fetches through the shared client, so politeness holds for pages too."""

    def __init__(self, http: Any, max_bytes: int | None = None) -> None:
        self.http = http
        self.max_bytes = max_bytes

    def _fetch(self, url: str, linked_from: str) -> tuple[bytes, dict[str, str]]:
        # A page URL comes from the feed, so the address policy applies from its first hop.
        resp = self.http.get(url, accept=PAGE_ACCEPT, max_bytes=self.max_bytes, linked_from=linked_from)
        return resp.body, resp.headers

    def __call__(self, article: Article) -> Article:
        return apply_full_text(article, lambda url: self._fetch(url, article.feed_url))
