"""Feed bytes to Articles: feedparser does the parsing, this module decides what each field means.

feedparser gets the raw bytes plus the response headers (lower-cased), so it picks the charset from
HTTP as a browser would; ``content-location`` carries the URL we fetched, which is how relative links
and xml:base resolve without feedparser doing any I/O. Ill-formed feeds keep every entry feedparser
recovers; the bozo reason is reported, never raised.

Before feedparser sees a byte, ``xmlscreen.screen_dtd`` refuses a hostile DOCTYPE.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from transforms.article import Article, FeedSpec
from transforms.sources.dates import fallback_date, from_struct_time, iso_z
from transforms.sources.jsonfeed import read_json_feed
from transforms.sources.urls import canonical_url, host_of
from transforms.sources.xmlscreen import UnsafeDtd, screen_dtd

log = logging.getLogger(__name__)

FUTURE_TOLERANCE = timedelta(days=1)  # time zones and clock skew; beyond this a date is suspect
_HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass
class ParseResult:
    articles: list[Article] = field(default_factory=list)
    bozo: str | None = None  # the reason feedparser flagged the feed as ill-formed, if it did
    error_kind: str | None = None  # not_a_feed | parse, when no article could be had
    error: str | None = None
    feed_title: str = ""
    version: str = ""
    skipped_entries: int = 0  # entries that could not be turned into an Article (logged)
    declared_interval: float | None = None  # seconds between polls the feed asks for (ttl, sy:updatePeriod)
    counts: Counter = field(default_factory=Counter)  # further counters of the read (wire items, packages...)


def article_id(guid: str, canonical: str, scope: str) -> str:
    """Deterministic document id: sha256 of the guid, else of the canonical URL.

    A URI-like guid ("urn:...", "https://...") and a URL are global. A bare guid ("42") is a publisher's own
    number, unique only on its site, so it is scoped: ``scope`` is the site's host (``id_scope``), which
    survives renaming the feed in the config or moving it to another URL on the same site.
    """
    if guid:
        key = guid if ":" in guid else f"{scope}\x00{guid}"
    else:
        key = canonical
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def id_scope(source_domain: str, feed: FeedSpec) -> str:
    """The site's host (the feed's site link, else the entry's link, else the feed URL's host, as
    ``source.domain``); only a local file with no link at all falls back to the feed's name."""
    return source_domain or feed.name


def feedparser_headers(headers: dict[str, str], fetched_url: str) -> dict[str, str]:
    """Headers as feedparser reads them: lower-case names, and ``content-location`` made absolute."""
    fetched_url = _as_url(fetched_url)
    out = {k.lower(): v for k, v in headers.items()}
    out.pop("content-encoding", None)  # the body we pass is already decoded
    # Without a Content-Type feedparser falls back to Latin-1 even over a UTF-16 BOM; application/xml lets
    # the BOM and the XML declaration decide, as the XML specification says.
    out.setdefault("content-type", "application/xml")
    loc = out.get("content-location")
    out["content-location"] = urljoin(fetched_url, loc) if loc else fetched_url
    return out


def run_feedparser(body: bytes, headers: dict[str, str], fetched_url: str) -> Any:
    """feedparser on our bytes; relative links resolve against the document's base URI.

    The base is the Content-Location header, else the feed's own absolute ``rel="self"`` URL, else the
    URL we fetched. The self URL matters for replays, archives and mirrors: a file or a copy served
    elsewhere still resolves ``/news/1`` to the publisher's site, not to the copy's host.
    """
    fp_headers = feedparser_headers(headers, fetched_url)
    d = feedparser.parse(body, response_headers=fp_headers)
    if any(k.lower() == "content-location" for k in headers):
        return d
    base = _self_link(d)
    if base is None and urlsplit(_as_url(fetched_url)).scheme not in ("http", "https"):
        site = d.feed.get("link") or ""
        base = site if urlsplit(site).scheme in ("http", "https") else None  # a file: its site, at least
    if base and _origin(base) != _origin(_as_url(fetched_url)):
        d = feedparser.parse(body, response_headers={**fp_headers, "content-location": base})
    return d


def _as_url(location: str) -> str:
    """A local path as a file: URL (a one-letter scheme is a Windows drive); URLs unchanged."""
    scheme = urlsplit(location).scheme if location else ""
    if location and (not scheme or len(scheme) == 1):
        return Path(location).resolve().as_uri()
    return location


def feed_dict(body: bytes, headers: dict[str, str], fetched_url: str) -> Any:
    """What feedparser returns for these bytes, with JSON Feed read into the same shape."""
    return read_json_feed(body, fetched_url) or run_feedparser(body, headers, fetched_url)


def _self_link(d: Any) -> str | None:
    for link in d.feed.get("links") or []:
        href = link.get("href") or ""
        if link.get("rel") == "self" and urlsplit(href).scheme in ("http", "https") and urlsplit(href).netloc:
            return href
    return None


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def parse_feed(body: bytes, headers: dict[str, str], feed: FeedSpec, fetched_url: str, now: datetime) -> ParseResult:
    """Every entry of the feed as an Article; never raises for bad input."""
    try:
        body = screen_dtd(body)
    except UnsafeDtd as e:
        log.warning("feed %s: refused: unsafe DTD: %s", feed.name, e)
        return ParseResult(error_kind="unsafe_dtd", error=f"unsafe DTD: {e}")
    try:
        d = feed_dict(body, headers, fetched_url)
    except Exception as e:  # noqa: BLE001 - feedparser's own bugs must not stop the other feeds
        log.warning("feed %s: feedparser failed: %s", feed.name, e)
        return ParseResult(error_kind="parse", error=f"feedparser raised {type(e).__name__}: {e}")
    bozo = None
    if d.get("bozo"):
        exc = d.get("bozo_exception")
        bozo = f"{type(exc).__name__}: {exc}" if exc is not None else "bozo"
    result = ParseResult(bozo=bozo, feed_title=_text(d.feed.get("title")), version=d.get("version") or "",
                         declared_interval=declared_interval(d.feed))
    entries = d.get("entries") or []
    if not entries:
        # An empty feed is fine; a body with neither a feed format nor any feed metadata is not a feed.
        ctype = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
        looks_html = ctype.split(";")[0].strip().lower() in _HTML_TYPES or _looks_like_html(body)
        has_metadata = any(d.feed.get(k) for k in ("title", "link", "subtitle", "updated"))
        if not result.version and (looks_html or not has_metadata):
            result.error_kind = "not_a_feed"
            result.error = ("an HTML page, not a feed" if looks_html else "no feed found in the body") + (
                f" ({bozo})" if bozo else "")
        return result
    first_seen = now.astimezone(timezone.utc)
    feed_lang = _lang(d.feed.get("language")) or _lang(d.get("headers", {}).get("content-language"))
    site = d.feed.get("link") or ""
    for entry in entries:
        try:
            result.articles.append(entry_to_article(entry, feed, fetched_url, site, feed_lang, result.feed_title,
                                                    first_seen))
        except Exception as e:  # noqa: BLE001 - one odd entry must not lose the others
            result.skipped_entries += 1
            log.warning("feed %s: skipped an entry: %s: %s", feed.name, type(e).__name__, e)
    return result


_UPDATE_PERIODS = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400, "monthly": 30 * 86400,
                   "yearly": 365 * 86400}


def declared_interval(meta: Any) -> float | None:
    """Seconds between polls the feed itself asks for: RSS ``<ttl>`` (minutes) and ``sy:updatePeriod`` over
    ``sy:updateFrequency``; the shorter when both are given (no update is missed), None when neither is
    given or readable."""
    found = []
    ttl = str(meta.get("ttl") or "").strip()
    if ttl.isdigit() and int(ttl) > 0:
        found.append(int(ttl) * 60.0)
    period = _UPDATE_PERIODS.get(str(meta.get("sy_updateperiod") or "").strip().lower())
    if period:
        freq = str(meta.get("sy_updatefrequency") or "1").strip()
        found.append(period / (int(freq) if freq.isdigit() and int(freq) > 0 else 1))
    return min(found, default=None)


def _looks_like_html(body: bytes) -> bool:
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head[:300]


def entry_to_article(entry: Any, feed: FeedSpec, fetched_url: str, site: str, feed_lang: str | None,
                     feed_title: str, first_seen: datetime) -> Article:
    link = _entry_link(entry)
    base = (entry.get("title_detail") or {}).get("base") or fetched_url
    canonical = canonical_url(link, base)
    guid = _text(entry.get("id"))
    source_domain = host_of(site) or host_of(canonical) or host_of(fetched_url)
    scope = id_scope(source_domain, feed)
    flags: list[str] = []
    if not guid and not canonical:
        flags.append("no_guid_no_link")
        guid = "content:" + hashlib.sha256(
            "\x00".join([scope, _text(entry.get("title")), _text(entry.get("summary"))]).encode()).hexdigest()
    # dict.get: FeedParserDict.get maps a missing "published" to "updated", which would hide the date's source.
    published = from_struct_time(dict.get(entry, "published_parsed")) or fallback_date(dict.get(entry, "published"))
    updated = from_struct_time(dict.get(entry, "updated_parsed")) or fallback_date(dict.get(entry, "updated"))
    date_source = "published" if published else "updated" if updated else "first_seen"
    limit = first_seen + FUTURE_TOLERANCE
    if published is not None and published > limit:
        flags.append("published_in_future")
    if updated is not None and updated > limit:
        flags.append("updated_in_future")
    if (dict.get(entry, "published") and published is None) or (dict.get(entry, "updated") and updated is None):
        flags.append("unparsed_date")
    content_html = _content(entry)
    return Article(
        id=article_id(guid, canonical, scope),
        guid=guid,
        url=link or "",
        canonical_url=canonical,
        title=_title(entry),
        summary_html=_text(entry.get("summary")),
        content_html=content_html,
        published_at=iso_z(published),
        updated_at=iso_z(updated),
        first_seen_at=iso_z(first_seen),
        date_source=date_source,
        authors=_authors(entry),
        categories=_categories(entry),
        enclosures=_enclosures(entry),
        language_hint=_entry_lang(entry) or feed_lang,
        feed_name=feed.name,
        feed_url=feed.url,
        source_name=feed_title or feed.name,
        source_domain=source_domain,
        agency=feed.agency,
        full_text=feed.full_text,
        flags=flags,
    )


# C0 controls (but tab, newline, carriage return) and DEL: a feed's text is stored as plain text, and these
# would reach Kibana, terminals and exports as raw control bytes (an ANSI escape in a title, say). C1 stays:
# it is most often mojibake, which the clean stage repairs.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _text(value: Any) -> str:
    return _CONTROLS.sub("", value).strip() if isinstance(value, str) else ""


_TAGS = re.compile(r"<[^>]+>")


def _title(entry: Any) -> str:
    """Titles are plain text; an HTML title (Atom type="html") loses its tags and entities."""
    title = _text(entry.get("title"))
    if "html" in ((entry.get("title_detail") or {}).get("type") or "") and ("<" in title or "&" in title):
        title = " ".join(html.unescape(_TAGS.sub(" ", title)).split())
    return title


def _entry_link(entry: Any) -> str:
    # FeedBurner rewrites links to its click tracker and keeps the publisher's in origLink.
    orig = entry.get("feedburner_origlink")
    if isinstance(orig, str) and orig.strip().startswith(("http://", "https://")):
        return orig.strip()
    link = entry.get("link")
    if link:
        return link.strip()
    for item in entry.get("links") or []:
        if item.get("rel", "alternate") == "alternate" and item.get("href"):
            return item["href"].strip()
    guid = _text(entry.get("id"))
    if entry.get("guidislink") and guid.startswith(("http://", "https://")):
        return guid
    return ""


def _content(entry: Any) -> str:
    """The richest content block: HTML preferred over text, the longest of each kind."""
    blocks = entry.get("content") or []
    best = ""
    best_is_html = False
    for block in blocks:
        value = block.get("value") or ""
        is_html = "html" in (block.get("type") or "")
        if (is_html, len(value)) > (best_is_html, len(best)):
            best, best_is_html = value, is_html
    return _CONTROLS.sub("", best).strip()


def _authors(entry: Any) -> list[str]:
    names: list[str] = []
    for a in entry.get("authors") or []:
        name = _text(a.get("name")) or _text(a.get("email"))
        if name and name not in names:
            names.append(name)
    if not names:
        for key in ("author", "dc_creator", "creator"):
            name = _text(entry.get(key))
            if name:
                names.append(name)
                break
    return names


def _categories(entry: Any) -> list[str]:
    cats: list[str] = []
    for tag in entry.get("tags") or []:
        term = _text(tag.get("label")) or _text(tag.get("term"))
        if term and term not in cats:
            cats.append(term)
    return cats


def _enclosures(entry: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[str] = set()

    def add(url: Any, mime: Any = None, length: Any = None, medium: Any = None, source: str = "") -> None:
        if not isinstance(url, str) or not url.strip() or url in seen:
            return
        seen.add(url)
        item: dict[str, Any] = {"url": url.strip(), "source": source}
        if mime:
            item["type"] = str(mime)
        if length and str(length).isdigit():
            item["length"] = int(length)
        if medium:
            item["medium"] = str(medium)
        out.append(item)

    for link in entry.get("links") or []:
        if link.get("rel") == "enclosure":
            add(link.get("href"), link.get("type"), link.get("length"), None, "enclosure")
    for media in entry.get("media_content") or []:
        add(media.get("url"), media.get("type"), media.get("filesize"), media.get("medium"), "media_content")
    for thumb in entry.get("media_thumbnail") or []:
        add(thumb.get("url"), None, None, "image", "media_thumbnail")
    return out


def _lang(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().split(",")[0].strip().lower().replace("_", "-") or None


def _entry_lang(entry: Any) -> str | None:
    for block in (entry.get("content") or []):
        lang = _lang(block.get("language"))
        if lang:
            return lang
    for key in ("summary_detail", "title_detail"):
        lang = _lang((entry.get(key) or {}).get("language"))
        if lang:
            return lang
    return None
