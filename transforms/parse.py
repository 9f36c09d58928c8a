"""Feed bytes to Articles: feedparser does the parsing, this module decides what each field means.

feedparser gets the raw bytes plus the response headers (lower-cased), so it picks the charset from
HTTP as a browser would; ``content-location`` carries the URL we fetched, which is how relative links
and xml:base resolve without feedparser doing any I/O. Ill-formed feeds keep every entry feedparser
recovers; the bozo reason is reported, never raised.

Before feedparser sees a byte, ``screen_dtd`` reads the DOCTYPE's internal subset itself: an entity
that is external (SYSTEM/PUBLIC), built from other entities (billion laughs), or whose expansions would
multiply the body (quadratic blowup) makes the feed fail as ``unsafe_dtd``; parameter entities are
dropped unread. feedparser's own DOCTYPE stripping misses declarations that do not start a line, and
Python's expat stops an entity bomb only after seconds and hundreds of megabytes, so neither is relied on.
Nothing in a feed is ever fetched: expat's external entities are off, and a DTD is never loaded.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import json
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
from feedparser import FeedParserDict

from transforms.article import Article, FeedSpec
from transforms.urls import canonical_url, host_of

log = logging.getLogger(__name__)

FUTURE_TOLERANCE = timedelta(days=1)  # time zones and clock skew; beyond this a date is suspect
_HTML_TYPES = ("text/html", "application/xhtml+xml")
MAX_ENTITY_VALUE = 1024  # characters in one internal entity's replacement text
MAX_ENTITY_GROWTH = 1_000_000  # characters entity references may add to a feed, beyond its own size


@dataclass
class ParseResult:
    articles: list[Article] = field(default_factory=list)
    bozo: str | None = None  # the reason feedparser flagged the feed as ill-formed, if it did
    error_kind: str | None = None  # not_a_feed | parse, when no article could be had
    error: str | None = None
    feed_title: str = ""
    version: str = ""
    skipped_entries: int = 0  # entries that could not be turned into an Article (logged)


def article_id(guid: str, canonical: str, feed_name: str) -> str:
    """Deterministic document id. A URI-like guid (and a URL) is global; a bare guid ("42") is scoped to its feed."""
    if guid:
        key = guid if ":" in guid else f"{feed_name}\x00{guid}"
    else:
        key = canonical
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


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


class UnsafeDtd(ValueError):
    """A DOCTYPE that declares entities we will not expand (external, nested, or too large in total)."""


_BOMS = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"),
         (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"))
_NO_BOM_WIDE = ((b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
                (b"\x00<\x00", "utf-16-be"), (b"<\x00?\x00", "utf-16-le"), (b"<\x00!\x00", "utf-16-le"))
_NAME = re.compile(r"[^\s\[>\"']+")
_CHAR_REF = re.compile(r"&#(?:[0-9]+|x[0-9a-fA-F]+);")


def screen_dtd(body: bytes) -> bytes:
    """``body`` with its DOCTYPE reduced to safe internal entities; raises UnsafeDtd for a hostile one.

    Works on the text as the XML declaration and BOM encode it: ASCII-compatible bytes are read as
    Latin-1 (a byte-exact round trip that never touches non-ASCII bytes), UTF-16 and UTF-32 decoded and
    encoded back the same way. A DOCTYPE without an internal subset is left alone (expat never loads
    the external DTD it names).
    """
    codec, bom = "latin-1", b""
    for mark, name in _BOMS:
        if body.startswith(mark):
            codec, bom = name, mark
            break
    else:
        for probe, name in _NO_BOM_WIDE:
            if body.startswith(probe):
                codec = name
                break
    try:
        text = body[len(bom):].decode(codec)
    except UnicodeDecodeError:
        return body  # not the encoding it looks like: expat will refuse it, with external entities off
    start = _doctype_start(text)
    if start is None:
        return body
    end, subset_start, subset_end = _doctype_end(text, start)
    if subset_start is None:
        return body
    header = text[start + len("<!DOCTYPE"):subset_start]
    name_match = _NAME.search(header)
    root = name_match.group(0) if name_match else "feed"
    entities = _safe_entities(text[subset_start:subset_end], text[end:])
    decls = "".join(f'\n<!ENTITY {n} "{v}">' for n, v in entities)
    replacement = f"\n<!DOCTYPE {root} [{decls}\n]>\n" if decls else f"\n<!DOCTYPE {root}>\n"
    return bom + (text[:start] + replacement + text[end:]).encode(codec)


def _doctype_start(text: str) -> int | None:
    """Where the DOCTYPE starts, if it comes in the prolog (before the root element)."""
    i = 0
    n = len(text)
    while i < n:
        if text[i] in " \t\r\n\ufeff":
            i += 1
        elif text.startswith("<?", i):
            j = text.find("?>", i + 2)
            i = n if j < 0 else j + 2
        elif text.startswith("<!--", i):
            j = text.find("-->", i + 4)
            i = n if j < 0 else j + 3
        elif text[i:i + 9].upper() == "<!DOCTYPE":
            return i
        else:
            return None
    return None


def _doctype_end(text: str, start: int) -> tuple[int, int | None, int | None]:
    """(end of the DOCTYPE, start and end of its internal subset or None); quotes and comments respected."""
    i = start + len("<!DOCTYPE")
    n = len(text)
    quote = ""
    subset_start = subset_end = None
    while i < n:
        c = text[i]
        if quote:
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif subset_start is not None and subset_end is None and text.startswith("<!--", i):
            j = text.find("-->", i + 4)
            if j < 0:
                break
            i = j + 3
            continue
        elif c == "[" and subset_start is None:
            subset_start = i + 1
        elif c == "]" and subset_start is not None and subset_end is None:
            subset_end = i
        elif c == ">" and (subset_start is None or subset_end is not None):
            return i + 1, subset_start, subset_end
        i += 1
    raise UnsafeDtd("the DOCTYPE never ends")


_DECL = re.compile(r"<!(ENTITY|ATTLIST|ELEMENT|NOTATION)\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)


def _safe_entities(subset: str, rest: str) -> list[tuple[str, str]]:
    """The internal general entities worth keeping; UnsafeDtd when one of them is hostile."""
    subset = _COMMENT.sub("", subset)
    kept: list[tuple[str, str]] = []
    for kind, decl in _DECL.findall(subset):
        if kind != "ENTITY":
            continue  # element and attribute declarations: nothing to expand
        parts = decl.strip()
        if parts.startswith("%"):
            continue  # a parameter entity: dropped with its references, never loaded
        m = re.match(r"([^\s\"']+)\s+(.*)$", parts, re.S)
        if not m:
            raise UnsafeDtd(f"an entity declaration we cannot read: <!ENTITY{decl[:80]}>")
        name, spec = m.group(1), m.group(2).strip()
        if spec.upper().startswith(("SYSTEM", "PUBLIC")):
            raise UnsafeDtd(f"external entity {name!r} ({spec[:120]})")
        value_m = re.fullmatch(r"\"([^\"]*)\"|'([^']*)'", spec, re.S)
        if not value_m:
            raise UnsafeDtd(f"an entity declaration we cannot read: {name!r}")
        value = value_m.group(1) if value_m.group(1) is not None else value_m.group(2)
        if ("&" in _CHAR_REF.sub("", value) or "%" in value) and not _CHAR_REF.fullmatch(value):
            raise UnsafeDtd(f"entity {name!r} is built from other entities (an expansion bomb)")
        if len(value) > MAX_ENTITY_VALUE:
            raise UnsafeDtd(f"entity {name!r} is {len(value)} characters long")
        if "<" in value:
            raise UnsafeDtd(f"entity {name!r} holds markup")
        kept.append((name, value.replace('"', "&#34;")))
    growth = sum(len(v) * rest.count(f"&{n};") for n, v in kept)
    if growth > len(rest) + MAX_ENTITY_GROWTH:
        raise UnsafeDtd(f"entity references would add {growth} characters to a body of {len(rest)}")
    return kept


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
    result = ParseResult(bozo=bozo, feed_title=_text(d.feed.get("title")), version=d.get("version") or "")
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


def _looks_like_html(body: bytes) -> bool:
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head[:300]


def entry_to_article(entry: Any, feed: FeedSpec, fetched_url: str, site: str, feed_lang: str | None,
                     feed_title: str, first_seen: datetime) -> Article:
    link = _entry_link(entry)
    base = (entry.get("title_detail") or {}).get("base") or fetched_url
    canonical = canonical_url(link, base)
    guid = _text(entry.get("id"))
    flags: list[str] = []
    if not guid and not canonical:
        flags.append("no_guid_no_link")
        guid = "content:" + hashlib.sha256(
            "\x00".join([feed.name, _text(entry.get("title")), _text(entry.get("summary"))]).encode()).hexdigest()
    # dict.get: FeedParserDict.get maps a missing "published" to "updated", which would hide the date's source.
    published = _date(dict.get(entry, "published_parsed")) or fallback_date(dict.get(entry, "published"))
    updated = _date(dict.get(entry, "updated_parsed")) or fallback_date(dict.get(entry, "updated"))
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
        id=article_id(guid, canonical, feed.name),
        guid=guid,
        url=link or "",
        canonical_url=canonical,
        title=_title(entry),
        summary_html=_text(entry.get("summary")),
        content_html=content_html,
        published_at=_iso(published),
        updated_at=_iso(updated),
        first_seen_at=_iso(first_seen),
        date_source=date_source,
        authors=_authors(entry),
        categories=_categories(entry),
        enclosures=_enclosures(entry),
        language_hint=_entry_lang(entry) or feed_lang,
        feed_name=feed.name,
        feed_url=feed.url,
        source_name=feed_title or feed.name,
        source_domain=host_of(site) or host_of(canonical) or host_of(fetched_url),
        agency=feed.agency,
        full_text=feed.full_text,
        flags=flags,
    )


def read_json_feed(body: bytes, fetched_url: str) -> FeedParserDict | None:
    """A JSON Feed (jsonfeed.org 1.x) in the shape feedparser gives XML feeds; None when the body is not one.

    feedparser 6.0 reads RSS and Atom only, so JSON Feed is mapped here, onto the same field names, and
    goes through the same ``entry_to_article``.
    """
    head = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"{"):
        return None
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or "jsonfeed.org/version/" not in str(data.get("version", "")):
        return None
    base = data.get("feed_url") or fetched_url
    lang = data.get("language")
    entries = []
    for item in data.get("items") or []:
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url") or ""
        authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
        entry: dict[str, Any] = {
            "id": str(item.get("id", "")),
            "link": urljoin(base, link) if link else "",
            "title": item.get("title") or "",
            "summary": html.escape(item.get("summary") or ""),  # plain text in JSON Feed
            "content": [c for c in (
                {"type": "text/html", "value": _sanitize(item.get("content_html")),
                 "language": item.get("language") or lang},
                {"type": "text/plain", "value": html.escape(item.get("content_text") or ""),
                 "language": item.get("language") or lang},
            ) if c["value"]],
            "published": item.get("date_published"),
            "published_parsed": _json_date(item.get("date_published")),
            "updated": item.get("date_modified"),
            "updated_parsed": _json_date(item.get("date_modified")),
            "authors": [{"name": a.get("name")} for a in authors if isinstance(a, dict)],
            "tags": [{"term": t} for t in item.get("tags") or [] if isinstance(t, str)],
            "links": [{"rel": "enclosure", "href": a.get("url"), "type": a.get("mime_type"),
                       "length": str(a.get("size_in_bytes") or "")}
                      for a in item.get("attachments") or [] if isinstance(a, dict)],
        }
        if item.get("image"):
            entry["media_thumbnail"] = [{"url": item["image"]}]
        entries.append(entry)
    return FeedParserDict(bozo=False, version="json1", entries=entries, headers={},
                          feed=FeedParserDict(title=data.get("title") or "", link=data.get("home_page_url") or "",
                                              language=lang))


def _sanitize(fragment: Any) -> str:
    """The same HTML clean-up feedparser gives XML feeds (scripts, event handlers and styles removed)."""
    if not isinstance(fragment, str) or not fragment:
        return ""
    try:
        from feedparser.sanitizer import _sanitize_html

        return _sanitize_html(fragment, "utf-8", "text/html")
    except Exception:  # noqa: BLE001 - a feedparser without this helper: the clean stage strips tags anyway
        return fragment


def _json_date(value: Any) -> time.struct_time | None:
    if not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).timetuple()


# Month and weekday names of the languages wire feeds come in, for RFC 822 dates feedparser cannot read
# ("Seg, 24 Set 2018 19:42:40 -0300").
_MONTHS = {
    "jan": ["janv", "ene", "gen", "jän", "janeiro", "enero"],
    "feb": ["fév", "fev", "févr", "fevr", "febr", "feb", "fevereiro", "febrero"],
    "mar": ["mars", "mär", "märz", "marz", "março", "marzo"],
    "apr": ["avr", "abr", "avril", "abril", "aprile"],
    "may": ["mai", "mayo", "maio", "mag", "maggio"],
    "jun": ["juin", "jun", "junho", "junio", "giu", "giugno"],
    "jul": ["juil", "jul", "julho", "julio", "lug", "luglio"],
    "aug": ["août", "aout", "ago", "agosto", "aug"],
    "sep": ["sept", "set", "setembro", "septiembre", "settembre"],
    "oct": ["oct", "out", "okt", "outubro", "octubre", "ott", "ottobre"],
    "nov": ["nov", "novembro", "noviembre", "novembre"],
    "dec": ["déc", "dez", "dic", "dezembro", "diciembre", "dicembre", "dezember"],
}
_MONTH_ALIASES = {alias: en for en, aliases in _MONTHS.items() for alias in aliases}
_RFC822ISH = re.compile(r"^\s*(?:[^\d\s,]+,?\s+)?(\d{1,2})\s+([^\d\s.]+)\.?\s+(\d{4})\s+(\d{1,2}:\d{2}(?::\d{2})?)"
                        r"\s*([+-]\d{4}|[A-Z]{1,4})?\s*$")


def fallback_date(raw: Any) -> datetime | None:
    """An RFC 822 date with month and weekday names in another language; None when it is not one."""
    if not isinstance(raw, str):
        return None
    m = _RFC822ISH.match(raw)
    if not m:
        return None
    day, month, year, clock, zone = m.groups()
    month_en = _MONTH_ALIASES.get(month.lower()) or (month.lower()[:3] if month.lower()[:3] in _MONTHS else None)
    if month_en is None:
        return None
    try:
        return parsedate_to_datetime(f"{day} {month_en.title()} {year} {clock} {zone or '+0000'}").astimezone(
            timezone.utc)
    except (TypeError, ValueError, IndexError):
        return None


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


def _date(parsed: Any) -> datetime | None:
    """feedparser's struct_time is already UTC."""
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc)
    except (OverflowError, ValueError, OSError, TypeError):
        return None


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat().replace("+00:00", "Z") if dt is not None else None


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
