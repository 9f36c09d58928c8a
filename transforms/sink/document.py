"""The article document: an Article turned into exactly what the index mapping accepts.

The mapping is ``dynamic: strict`` (configs/index-template.json), so this
module is the one place that decides the shape of what Kibana sees. It is a
pure function over plain data and is tested without Beam or Elasticsearch.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import lxml.html

from transforms.article import Article

ENTITY_FACETS = ("person", "org", "location", "norp", "event")

# spaCy labels to the facet that holds them; anything else is not a facet.
_LABEL_TO_FACET = {
    "PERSON": "person",
    "ORG": "org",
    "GPE": "location",
    "LOC": "location",
    "FAC": "location",
    "NORP": "norp",
    "EVENT": "event",
}
_FACET_ALIASES = {"gpe": "location", "loc": "location", "fac": "location", "organization": "org",
                  "organisation": "org", "per": "person", "persons": "person", "people": "person"}
_BLOCK_TAGS = frozenset("p div br li ul ol h1 h2 h3 h4 h5 h6 tr td th blockquote pre section article "
                        "header footer figure figcaption dd dt table".split())
_DETAIL_KEYS = ("name", "type", "mentions", "first_offset", "in_title", "salience")


def document_id(article: Article) -> str:
    """The deterministic ``_id``: the Article's own id (from its guid or canonical URL)."""
    if not article.id:
        raise ValueError(f"article without an id (guid={article.guid!r}, url={article.url!r})")
    return article.id


def to_document(article: Article, *, pipeline_version: str, now: datetime | None = None) -> dict[str, Any]:
    """The index document of one article; ``now`` is the ingestion time (UTC)."""
    ingested = _utc(now or datetime.now(timezone.utc))
    flags = _strings(article.flags)
    published = _date(article.published_at, "published_at", flags)
    updated = _date(article.updated_at, "updated_at", flags)
    first_seen = _date(article.first_seen_at, "first_seen_at", flags) or ingested
    summary = html_to_text(article.summary_html)
    body = article.text or ""
    doc: dict[str, Any] = {
        "@timestamp": published or first_seen,
        "published_at": published,
        "updated_at": updated,
        "first_seen_at": first_seen,
        "ingested_at": ingested,
        "date_source": article.date_source or ("published" if published else "first_seen"),
        "title": (article.title or "").strip(),
        "summary": summary,
        "body": body,
        "url": article.url or None,
        "canonical_url": article.canonical_url or None,
        "guid": article.guid or None,
        "source": {
            "name": article.source_name or article.feed_name or None,
            "feed_url": article.feed_url or None,
            "domain": article.source_domain or None,
        },
        "agency": article.agency or None,
        "authors": _strings(article.authors),
        "dateline": _dateline(article.dateline),
        "language": article.language or article.language_hint or None,
        "categories": _strings(article.categories),
        "entities": entities_field(article.entities),
        "entities_status": article.entities_status or None,
        "content_hash": article.content_hash or None,
        "word_count": word_count(body),
        "cleaning": {
            "rules": _strings(_rule_names(article.cleaning.get("rules", []))),
            "removed_chars": int(article.cleaning.get("removed_chars") or 0),
        },
        "story": _story(article),
        "flags": flags,
        "enclosures": [_enclosure(e) for e in article.enclosures if isinstance(e, dict) and e.get("url")],
        "pipeline": {"version": pipeline_version},
    }
    return doc


def html_to_text(fragment: str | None) -> str:
    """Plain text of an HTML fragment (lxml), whitespace collapsed; plain text passes through."""
    if not fragment or not fragment.strip():
        return ""
    if "<" not in fragment and "&" not in fragment:
        return " ".join(fragment.split())
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (ValueError, lxml.etree.ParserError):
        return " ".join(fragment.split())
    for bad in root.xpath("//script|//style"):
        bad.drop_tree()
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.lower() in _BLOCK_TAGS:
            el.tail = " " + (el.tail or "")
    return " ".join(root.text_content().split())


def word_count(text: str) -> int:
    return len(text.split())


def iso_utc(value: str | datetime | None) -> str | None:
    """An ISO 8601 UTC timestamp ending in ``Z``, or None; naive values are taken as UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return _utc(value)
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError as e:
        raise ValueError(f"not an ISO 8601 date: {value!r}") from e
    return _utc(parsed)


def entities_field(entities: dict[str, Any] | None) -> dict[str, Any]:
    """Facet arrays per type plus the per-entity details, from what the enrich stage produced."""
    out: dict[str, Any] = {facet: [] for facet in ENTITY_FACETS}
    details: list[dict[str, Any]] = []
    for key, value in (entities or {}).items():
        if key == "details":
            continue
        facet = _FACET_ALIASES.get(key.lower(), key.lower())
        if facet in out and isinstance(value, list):
            out[facet] += [str(v) for v in value if v]
    for d in (entities or {}).get("details") or []:
        if not isinstance(d, dict) or not d.get("name"):
            continue
        detail = {
            "name": str(d["name"]),
            "type": str(d.get("type") or d.get("label") or "").upper() or None,
            "mentions": int(d.get("mentions") or 0),
            "first_offset": int(d["first_offset"]) if d.get("first_offset") is not None else None,
            "in_title": bool(d.get("in_title", False)),
            "salience": float(d["salience"]) if d.get("salience") is not None else None,
        }
        details.append({k: detail[k] for k in _DETAIL_KEYS})
        facet = _LABEL_TO_FACET.get(detail["type"] or "")
        if facet:
            out[facet].append(detail["name"])
    for facet in ENTITY_FACETS:
        out[facet] = _strings(out[facet])
    out["details"] = details
    return out


def _date(value: str | None, name: str, flags: list[str]) -> str | None:
    """The date in UTC; one that does not parse is left out and flagged rather than failing the article."""
    try:
        return iso_utc(value)
    except ValueError:
        flags.append(f"invalid_{name}")
        return None


def _utc(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _strings(values: Any) -> list[str]:
    """Non-empty strings, first occurrence kept, order kept."""
    seen: dict[str, None] = {}
    for v in values or []:
        if v is None:
            continue
        s = str(v).strip()
        if s:
            seen.setdefault(s, None)
    return list(seen)


def _rule_names(rules: Any) -> list[str]:
    return [r.get("rule") if isinstance(r, dict) else r for r in rules or []]


def _story(article: Article) -> dict[str, Any] | None:
    """Which story the article is a copy of; ``first`` marks the story's first document (its id is the story's)."""
    story = article.story or {}
    if not story.get("id"):
        return None
    return {"id": str(story["id"]), "first_seen_at": _date(story.get("first_seen_at"), "story_first_seen_at", []),
            "first_source": story.get("first_source") or None, "first": story["id"] == article.id}


def _dateline(dateline: dict[str, Any] | None) -> dict[str, str | None] | None:
    if not dateline:
        return None
    return {"location": dateline.get("location") or None, "date_text": dateline.get("date_text") or None}


def _enclosure(e: dict[str, Any]) -> dict[str, Any]:
    length = e.get("length")
    try:
        length = int(length) if length not in (None, "") else None
    except (TypeError, ValueError):
        length = None
    return {"url": str(e["url"]), "type": e.get("type") or None, "length": length}
