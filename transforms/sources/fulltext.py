"""Full text for feeds that only carry teasers: fetch the article page and keep its main text.

The page goes through the same ``HttpClient`` (cap, timeouts, per-host politeness). Bytes are decoded
with the page's own charset (HTTP header, then ``<meta>``), and the main text is trafilatura's precision mode,
never worse than trafilatura alone: the page's JSON-LD article body or trafilatura's recall mode take over
when the precise text is empty or far shorter (``extract_main_text``). The result replaces the feed's text
only when it is longer; otherwise the feed's text stays and a ``flags`` entry says why.
"""

from __future__ import annotations

import html
import json
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
_BLOCK_END = re.compile(r"</(?:p|div|h[1-6]|li|blockquote)>|<br\s*/?>", re.IGNORECASE)
_JSON_LD = re.compile(r"<script[^>]+application/ld\+json[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)
_BODY_KEYS = ("articleBody", "reviewBody")
_H1 = re.compile(r"<h1\b[^>]*>(.*?)</h1>", re.DOTALL | re.IGNORECASE)
_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title>", re.DOTALL | re.IGNORECASE)
_OG_TITLE = re.compile(r"""<meta[^>]+property=["']og:title["'][^>]+content=["']([^"']*)""", re.IGNORECASE)
# The precise text gives way when the page's own article text is this many times longer.
FALLBACK_RATIO = 1.3
HEAD_CHARS = 200_000  # headlines are looked for this far into a page
MIN_TITLE_PREFIX = 20  # a first line this long that starts the <title> is the headline ("Headline | Site")
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
    """The page's main text, one paragraph per line; "" when nothing is found.

    trafilatura's precision mode first (tables kept: a results table can be the article); when that is empty or
    far shorter than the article the page itself carries, the longer text: the JSON-LD ``articleBody`` (whole
    behind a paywall, or the only text of a script-rendered page), else trafilatura's recall mode. No
    ``deduplicate``: its cache lives across pages, so a page fetched again (an updated story) came out empty.
    The headline, which the article already has as its title, is not repeated as the first line.
    """
    import trafilatura  # start-up: its import (about 0.7 s) is paid only by feeds that fetch full text

    options = {"url": url or None, "include_comments": False, "include_tables": True, "output_format": "txt"}
    text = (trafilatura.extract(page, favor_precision=True, **options) or "").strip()
    body = json_ld_body(page)
    if len(body) > FALLBACK_RATIO * len(text):
        text = body
    else:
        recall = (trafilatura.extract(page, favor_recall=True, **options) or "").strip()
        if len(recall) > FALLBACK_RATIO * len(text):
            text = recall
    return without_headline(text, page)


def json_ld_body(page: str) -> str:
    """The longest ``articleBody`` (or ``reviewBody``) of the page's JSON-LD, as plain text; "" without one."""
    bodies: list[str] = []
    for match in _JSON_LD.finditer(page):
        try:
            _collect_bodies(json.loads(match.group(1), strict=False), bodies)
        except ValueError:
            continue  # a broken script is no article
    texts = []
    for body in bodies:
        body = html.unescape(body)
        if "<" in body:  # some sites put the article's HTML there
            body = "\n".join(p.strip() for p in _BLOCK_END.split(body))
            body = _TAG.sub("", body)
        texts.append("\n".join(" ".join(line.split()) for line in body.splitlines() if line.strip()))
    return max(texts, key=len, default="")


def _collect_bodies(node: Any, bodies: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _collect_bodies(item, bodies)
    elif isinstance(node, dict):
        bodies += [node[key] for key in _BODY_KEYS if isinstance(node.get(key), str)]
        for key in ("@graph", "mainEntity", "mainEntityOfPage"):
            _collect_bodies(node.get(key), bodies)


def without_headline(text: str, page: str) -> str:
    """``text`` less a first line that is the page's headline (its <h1>, og:title, or the start of <title>)."""
    first, _, rest = text.partition("\n")
    first = _plain(first)
    if not first:
        return text
    headlines = {_plain(m.group(1)) for pattern in (_H1, _OG_TITLE) for m in pattern.finditer(page[:HEAD_CHARS])}
    title = _TITLE.search(page[:HEAD_CHARS])
    if first in headlines or (len(first) >= MIN_TITLE_PREFIX and title and _plain(title.group(1)).startswith(first)):
        return rest.strip()
    return text


def _plain(fragment: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", fragment)).split()).casefold()


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
