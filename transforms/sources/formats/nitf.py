"""NITF 3.x (News Industry Text Format, IPTC): one story per ``nitf`` document.

Read from the NITF 3.x specification: ``head/docdata`` identifies the story (``doc-id``; ``du-key``, whose
``key`` stays the same across updates while ``generation`` counts them), and gives its urgency
(``ed-urg``), issue time, editorial message (``ed-msg``), copyright and rights, keywords and management
status; ``head/tobject`` carries IPTC subject codes (``tobject.subject.refnum``) and ``head/meta`` the ANPA
fields agencies such as AAP keep (category, keyword, take key). ``body.head`` holds the headlines, bylines,
dateline element, distributor and abstract; ``body.content`` the text.

Without a ``du-key`` a story has no version number, and its versions are ordered by issue time.
"""

from __future__ import annotations

from lxml import etree

from transforms.sources.formats.base import (
    ReadResult,
    WireError,
    WireItem,
    agency_id,
    clean,
    iso_utc,
    split_names,
    to_int,
    urgency,
)
from transforms.sources.formats.registry import Sniff, register
from transforms.sources.formats.xmltools import attr, child, children, descendants, inner_html, local, parse_xml, text

NAME = "nitf"
_STATUS = {"usable": "usable", "canceled": "canceled", "cancelled": "canceled", "withheld": "withheld",
           "embargoed": "withheld", "withdrawn": "canceled", "killed": "canceled"}
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _sniff(probe: Sniff) -> bool:
    return probe.kind == "xml" and probe.root == "nitf"


@register(NAME, _sniff)
def read(body: bytes, source: str) -> ReadResult:
    root = parse_xml(body)
    if local(root) != "nitf":
        raise WireError("structure", f"<{local(root)}> is not a NITF document")
    result = ReadResult(NAME)
    item = nitf_item(root)
    if item is None:
        result.skipped["no_text"] += 1
    else:
        result.items.append(item)
    return result


def nitf_item(root: etree._Element) -> WireItem | None:
    """The story of one ``nitf`` element; None when it has neither headline nor text."""
    head, body = child(root, "head"), child(root, "body")
    docdata = child(head, "docdata")
    body_head = child(body, "body.head")
    meta = {clean(m.get("name")).lower(): clean(m.get("content")) for m in children(head, "meta")}
    doc_id = child(docdata, "doc-id")
    du_key = child(docdata, "du-key")
    regsrc = clean(doc_id.get("regsrc")) if doc_id is not None else ""
    key = clean(du_key.get("key")) if du_key is not None else ""
    ident = key or (clean(doc_id.get("id-string")) if doc_id is not None else "")
    headline = text(body_head, "hedline", "hl1") or text(head, "title")
    content = child(body, "body.content")
    body_html = inner_html(content) if content is not None else ""
    if not (headline or body_html):
        return None
    if not ident:
        raise WireError("structure", "a NITF story with neither doc-id nor du-key")
    generation = to_int(du_key.get("generation") or du_key.get("version")) if du_key is not None else None
    copyright_el = child(docdata, "doc.copyright")
    holder = attr(copyright_el, "holder")
    year = attr(copyright_el, "year")
    rights_el = child(docdata, "doc.rights")
    usage = " ".join(v for v in (attr(rights_el, "type"), attr(rights_el, "limitations")) if v)
    bylines = [b for b in children(body_head, "byline") if b.get("class") not in ("title", "credit")]
    names = [n for b in bylines for n in split_names(text(b)) if agency_id(n) is None]
    city = text(body_head, "dateline", "location", "city") or text(body_head, "dateline", "location")
    date_text = text(body_head, "dateline", "story.date")
    subjects = [{"code": s.get("tobject.subject.refnum"),
                 "name": clean(s.get("tobject.subject.detail") or s.get("tobject.subject.matter")
                               or s.get("tobject.subject.type")) or None,
                 "scheme": "subj"}
                for s in descendants(child(head, "tobject"), "tobject.subject")]
    issued = iso_utc(attr(docdata, "norm", "date.issue")) or iso_utc(attr(docdata, "norm", "date.release"))
    return WireItem(
        format=NAME,
        guid=f"{(regsrc or agency_id(holder) or 'nitf').lower()}:{ident}",
        headline=headline,
        body_html=body_html,
        summary=text(body_head, "abstract") or text(body_head, "hedline", "hl2"),
        version=generation,
        version_created=issued,
        first_created=iso_utc(attr(docdata, "norm", "date.release")) or issued,
        status=_STATUS.get(clean(docdata.get("management-status") if docdata is not None else "").lower(),
                           "usable"),
        slugline=meta.get("anpa-keyword") or key or None,
        take=meta.get("anpa-takekey") or None,
        byline=names,
        dateline={"location": city or None, "date_text": date_text or None} if city or date_text else None,
        urgency=urgency(attr(docdata, "ed-urg", "urgency")),
        category=meta.get("anpa-category") or None,
        subjects=subjects,
        keywords=[attr(k, "key") for k in descendants(child(docdata, "key-list"), "keyword")],
        agency=agency_id(regsrc, holder, text(body_head, "distributor"), attr(rights_el, "owner")),
        service=meta.get("paservice") or meta.get("anpa-service") or None,
        rights={"holder": holder or None, "notice": f"Copyright {year} {holder}".replace("  ", " ")
                if holder else None, "usage": usage or None},
        editorial_note="; ".join(attr(m, "info") for m in children(docdata, "ed-msg") if attr(m, "info")) or None,
        language=clean(root.get(_XML_LANG) or (content.get(_XML_LANG) if content is not None else "")) or None,
        ordered_by="version" if generation is not None else "time",
    )
