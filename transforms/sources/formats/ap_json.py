"""The AP Media API's JSON: a feed or search answer (``data.items[].item``) or one item (``data.item``).

Read from AP's Media API documentation and its published samples: ``altids.itemid`` identifies a story across
versions (``etag`` changes with each), ``version`` and ``versioncreated`` order them, ``pubstatus`` says
whether it stands. The JSON carries the metadata (headline and extended headline, slugline, bylines,
dateline location, urgency, subjects and the ANPA category among them, ednote, copyright and usage terms);
the story's text is a rendition to download (NITF or ANPA). An item with no text of its own beyond its
headline therefore only references its rendition: it is counted, not indexed empty. Items that are not text
(pictures, video, graphics) are skipped.
"""

from __future__ import annotations

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

NAME = "ap-json"
_STATUS = {"usable": "usable", "canceled": "canceled", "withheld": "withheld", "embargoed": "withheld"}
_AP_SCHEME = "http://cv.ap.org/id/"


def _sniff(probe: Sniff) -> bool:
    doc = probe.json
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), dict):
        return False
    data = doc["data"]
    item = data.get("item") or next((i.get("item") for i in data.get("items") or [] if isinstance(i, dict)), None)
    return isinstance(item, dict) and ("altids" in item or "api_version" in doc)


@register(NAME, _sniff)
def read(body: bytes, source: str) -> ReadResult:
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as e:
        raise WireError("charset", f"AP JSON is UTF-8; byte {e.start} is not UTF-8") from e
    except ValueError as e:
        raise WireError("json", f"not valid JSON: {e}") from e
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, dict):
        raise WireError("structure", "AP JSON without a data object")
    wrapped = [data] if "item" in data else [i for i in data.get("items") or [] if isinstance(i, dict)]
    products = [clean(p.get("name")) for p in (data.get("meta") or {}).get("products") or [] if isinstance(p, dict)]
    result = ReadResult(NAME)
    for wrapper in wrapped:
        entry = wrapper.get("item")
        if not isinstance(entry, dict):
            result.skipped["not_an_item"] += 1
            continue
        if clean(entry.get("type") or "text").lower() != "text":
            result.skipped["non_text"] += 1
            continue
        item = _item(entry, next((p for p in products if p), None))
        if not (item.body_html or item.summary):
            result.skipped["rendition_only"] += 1
            continue
        result.items.append(item)
    return result


def _item(entry: dict[str, Any], product: str | None) -> WireItem:
    altids = entry.get("altids") if isinstance(entry.get("altids"), dict) else {}
    itemid = clean(altids.get("itemid"))
    if not itemid:
        raise WireError("structure", f"an AP item without altids.itemid: {clean(entry.get('headline'))[:60]!r}")
    bylines = [b for b in entry.get("bylines") or [] if isinstance(b, dict)]
    subjects, category = [], None
    for s in entry.get("subject") or []:
        if not isinstance(s, dict):
            continue
        if "category" in (s.get("rels") or []):
            category = category or clean(s.get("code")) or None
            continue
        scheme = "ap" if s.get("scheme") == _AP_SCHEME else s.get("scheme")
        subjects.append({"code": s.get("code"), "name": s.get("name"), "scheme": scheme})
    place = entry.get("datelinelocation") if isinstance(entry.get("datelinelocation"), dict) else {}
    usage = entry.get("usageterms") or []
    body = entry.get("body_html") or (paragraphs_html(str(entry["body_text"]).split("\n\n"))
                                      if entry.get("body_text") else "")
    return WireItem(
        format=NAME,
        guid=f"ap:{itemid}",
        headline=clean(entry.get("headline")) or clean(entry.get("title")),
        body_html=str(body),
        summary=clean(entry.get("headline_extended") or entry.get("summary")),
        version=to_int(entry.get("version")),
        version_created=iso_utc(entry.get("versioncreated")),
        first_created=iso_utc(entry.get("firstcreated")),
        status=_STATUS.get(clean(entry.get("pubstatus")).lower(), "usable"),
        slugline=clean(entry.get("slugline") or entry.get("title")) or None,
        byline=[n for b in bylines for n in split_names(str(b.get("by") or ""))],
        dateline={"location": clean(place.get("city")) or None, "date_text": None} if place.get("city") else None,
        urgency=urgency(entry.get("urgency")),
        category=category,
        subjects=subjects,
        keywords=[clean(str(k)) for k in entry.get("keywords") or []],
        agency=agency_id(entry.get("provider"), "ap"),
        service=product,
        rights={"holder": "The Associated Press" if agency_id(entry.get("provider")) in (None, "ap") else None,
                "notice": clean(entry.get("copyrightnotice")) or None,
                "usage": (" ".join(clean(u) for u in usage if u) if isinstance(usage, list) else clean(usage))
                or None},
        editorial_note=clean(entry.get("ednote")) or None,
        language=clean(entry.get("language")).lower() or None,
    )
