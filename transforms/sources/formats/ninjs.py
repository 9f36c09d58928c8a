"""ninjs (IPTC's News in JSON), versions 1.x and 2.x, and dpa's digitalwires entries that follow it.

Read from the ninjs 1.4 and 2.0 schemas: ``uri`` identifies the item across versions, ``version`` and
``versioncreated`` order them, ``pubstatus`` says whether it is usable, canceled or withheld. ninjs 1.x gives
``headline``, ``body_html``/``body_text``, ``byline``, ``subject``; 2.x turns these into lists with roles
(``headlines``, ``bodies``, ``descriptions``, ``subjects``) and ``by``. dpa's digitalwires API wraps its items
in ``entries`` with ``urn``, ``version_created``, ``article_html``, ``teaser`` and typed ``categories``
(desk, subjects, keywords). A document may be one item, a list of items, or a digitalwires answer.
Items whose ``type`` is not text (picture, video, graphic, audio) are skipped.
"""

from __future__ import annotations

import html
import json
from typing import Any

from transforms.sources.formats.base import (
    ReadResult,
    WireError,
    WireItem,
    agency_id,
    clean,
    iso_utc,
    paragraphs_html,
    split_names,
    to_int,
    urgency,
)
from transforms.sources.formats.registry import Sniff, register

NAME = "ninjs"
_ITEM_KEYS = {"headline", "headlines", "body_html", "body_text", "bodies", "article_html"}
_STATUS = {"usable": "usable", "canceled": "canceled", "cancelled": "canceled", "withheld": "withheld"}


def _looks_like_item(value: Any) -> bool:
    return isinstance(value, dict) and bool(value.get("uri") or value.get("urn") or value.get("guid")) and bool(
        _ITEM_KEYS & value.keys())


def _sniff(probe: Sniff) -> bool:
    doc = probe.json
    if isinstance(doc, dict) and isinstance(doc.get("entries"), list):
        return any(_looks_like_item(e) for e in doc["entries"])
    if isinstance(doc, list):
        return bool(doc) and all(isinstance(e, dict) for e in doc) and any(_looks_like_item(e) for e in doc)
    return _looks_like_item(doc)


@register(NAME, _sniff)
def read(body: bytes, source: str) -> ReadResult:
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as e:
        raise WireError("charset", f"ninjs is UTF-8 JSON; byte {e.start} is not UTF-8") from e
    except ValueError as e:
        raise WireError("json", f"not valid JSON: {e}") from e
    entries = doc.get("entries") if isinstance(doc, dict) and "entries" in doc else doc
    entries = entries if isinstance(entries, list) else [entries]
    result = ReadResult(NAME)
    for entry in entries:
        if not isinstance(entry, dict):
            result.skipped["not_an_item"] += 1
            continue
        kind = clean(str(entry.get("type") or "text")).lower()
        if kind not in ("text", "composite"):
            result.skipped["non_text"] += 1
            continue
        item = _item(entry)
        if item is None:
            result.skipped["no_text"] += 1
        else:
            result.items.append(item)
    return result


def _role_value(values: Any, *roles: str) -> str:
    """The value of the first entry with one of ``roles`` (any entry when none matches) of a ninjs 2 list."""
    if not isinstance(values, list):
        return ""
    entries = [v for v in values if isinstance(v, dict) and v.get("value")]
    for role in roles:
        for v in entries:
            if clean(v.get("role")).lower() == role:
                return str(v["value"])
    return str(entries[0]["value"]) if entries else ""


def _body(entry: dict[str, Any]) -> str:
    for key in ("body_html", "article_html"):
        if entry.get(key):
            return str(entry[key]).strip()
    bodies = entry.get("bodies")
    if isinstance(bodies, list):
        html_body = next((b.get("value") for b in bodies if isinstance(b, dict) and "html" in str(
            b.get("contenttype") or b.get("role") or "") and b.get("value")), None)
        if html_body:
            return str(html_body).strip()
        plain = _role_value(bodies, "text", "plain")
        if plain:
            return paragraphs_html(plain.split("\n\n"))
    if entry.get("body_text"):
        return paragraphs_html(str(entry["body_text"]).split("\n\n"))
    return ""


def _subjects(entry: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str], str | None]:
    """(subjects, keywords, service) from ninjs subject lists or digitalwires categories."""
    subjects: list[dict[str, Any]] = []
    keywords = [clean(str(k)) for k in entry.get("keywords") or [] if k]
    service = None
    for s in (entry.get("subject") or []) + (entry.get("subjects") or []):
        if isinstance(s, dict):
            code = s.get("code") or s.get("uri") or s.get("literal")
            subjects.append({"code": code, "name": s.get("name"), "scheme": s.get("scheme")})
    for c in entry.get("categories") or []:
        if not isinstance(c, dict):
            continue
        kind = clean(c.get("type")).lower()
        if kind.endswith("keyword"):
            keywords.append(clean(c.get("name")))
        elif kind.endswith("desk"):
            service = service or clean(c.get("name")) or None
        else:
            subjects.append({"code": c.get("qcode"), "name": c.get("name"), "scheme": None})
    services = entry.get("service") or entry.get("services") or []
    if service is None and isinstance(services, list):
        service = next((clean(s.get("name") or s.get("code") or s.get("qcode")) for s in services
                        if isinstance(s, dict)), None) or None
    return subjects, keywords, service


def _item(entry: dict[str, Any]) -> WireItem | None:
    guid = clean(str(entry.get("uri") or entry.get("urn") or entry.get("guid") or ""))
    headline = clean(entry.get("headline")) or clean(_role_value(entry.get("headlines"), "main"))
    body = _body(entry)
    if not (headline or body):
        return None
    if not guid:
        raise WireError("structure", f"a ninjs item without uri: {headline[:60]!r}")
    by = entry.get("byline") or entry.get("by") or ""
    by = ", ".join(str(b.get("name") or "") for b in by if isinstance(b, dict)) if isinstance(by, list) else str(by)
    subjects, keywords, service = _subjects(entry)
    notes = entry.get("ednote") or [n.get("text") for n in entry.get("ednotes") or [] if isinstance(n, dict)]
    notes = notes if isinstance(notes, list) else [notes]
    located = entry.get("located") or entry.get("dateline")
    located = located.get("name") if isinstance(located, dict) else located
    summary = clean(entry.get("description_text") or entry.get("teaser")) or clean(
        html.unescape(_role_value(entry.get("descriptions"), "summary", "text")))
    holder = clean(entry.get("copyrightholder")) or None
    return WireItem(
        format=NAME,
        guid=guid,
        headline=headline,
        body_html=body,
        summary=summary,
        version=to_int(entry.get("version")),
        version_created=iso_utc(entry.get("versioncreated") or entry.get("version_created")),
        first_created=iso_utc(entry.get("firstcreated") or entry.get("firstversion")),
        status=_STATUS.get(clean(entry.get("pubstatus")).lower(), "usable"),
        slugline=clean(entry.get("slugline")) or None,
        byline=[n for n in split_names(by) if agency_id(n) is None],
        dateline={"location": clean(located), "date_text": None} if located else None,
        urgency=urgency(entry.get("urgency")),
        subjects=subjects,
        keywords=keywords,
        agency=agency_id(holder, entry.get("provider"), by.rsplit(",", 1)[-1] if "," in by else by,
                         *(guid.split(":")[1:3] if guid.startswith("urn:") else ())),
        service=service or clean(entry.get("profile")) or None,
        rights={"holder": holder, "notice": clean(entry.get("copyrightnotice")) or None,
                "usage": clean(entry.get("usageterms")) or None},
        editorial_note="; ".join(clean(n) for n in notes if n) or None,
        language=clean(entry.get("language")).lower() or None,
    )
