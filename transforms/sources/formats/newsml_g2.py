"""IPTC NewsML-G2: a ``newsItem``, a ``packageItem``, or a ``newsMessage`` carrying several of them.

Read from the NewsML-G2 specification (IPTC, version 2.x): ``itemMeta`` gives the item's class, versions and
times, ``pubStatus``, ``service``, ``edNote``; ``contentMeta`` the urgency, subjects, keywords, slugline,
headlines, byline (``by``), ``dateline`` and ``located``; ``rightsInfo`` the copyright and usage terms; the
text is inline in ``contentSet`` (``inlineXML`` with XHTML or NITF, or ``inlineData`` as plain text). The
item's ``guid`` is the same for every version; the ``version`` attribute orders them. A ``packageItem`` only
references other items (``itemRef``): it is counted; one that references nothing is an error, since a
package exists to group items. Items that are not text (``ninat:picture``, ``ninat:video``...) are skipped.
"""

from __future__ import annotations

import re

from lxml import etree

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
from transforms.sources.formats.datelines import parse_dateline
from transforms.sources.formats.registry import Sniff, register
from transforms.sources.formats.xmltools import attr, child, children, descendants, inner_html, local, parse_xml, text

NAME = "newsml-g2"
NAR = "http://iptc.org/std/nar/2006-10-01/"
_ROOTS = {"newsMessage", "newsItem", "packageItem"}
_TEXT_CLASSES = {"text", "composite-text"}
_STATUS = {"usable": "usable", "canceled": "canceled", "cancelled": "canceled", "withheld": "withheld"}
# Reuters puts the version of a story in front of its headline: "UPDATE 1-...", "CORRECTED-...", "REFILE-...".
_HEADLINE_TAKE = re.compile(r"^((?:UPDATE|CORRECTED|REFILE|RPT|REPEAT|WRAPUP|CORRECTION)(?: \d+)?)-(?=\S)")
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _sniff(probe: Sniff) -> bool:
    return probe.kind == "xml" and probe.root in _ROOTS and (probe.namespace == NAR or probe.root == "newsMessage")


@register(NAME, _sniff)
def read(body: bytes, source: str) -> ReadResult:
    root = parse_xml(body)
    result = ReadResult(NAME)
    name = local(root)
    if name == "newsMessage":
        priority = urgency(text(root, "header", "priority"))
        items = [c for c in children(child(root, "itemSet")) if local(c).endswith("Item")]
        if not items:
            raise WireError("empty", "a newsMessage whose itemSet holds no item")
    elif name in ("newsItem", "packageItem"):
        priority, items = None, [root]
    else:
        raise WireError("structure", f"<{name}> is not a NewsML-G2 item or message")
    for el in items:
        kind = local(el)
        if kind == "packageItem":
            refs = list(descendants(el, "itemRef"))
            if not refs:
                if len(items) == 1:
                    raise WireError("package_without_items",
                                    f"packageItem {el.get('guid') or '?'} references no item")
                result.skipped["empty_package"] += 1
                continue
            result.packages += 1
        elif kind == "newsItem":
            item = _news_item(el, priority)
            if item is None:
                result.skipped["non_text"] += 1
            elif not (item.body_html or item.headline):
                result.skipped["no_text"] += 1
            else:
                result.items.append(item)
        else:  # conceptItem, planningItem, knowledgeItem: not stories
            result.skipped["not_a_story"] += 1
    return result


def _news_item(el: etree._Element, message_priority: int | None) -> WireItem | None:
    meta, content = child(el, "itemMeta"), child(el, "contentMeta")
    item_class = attr(meta, "qcode", "itemClass").rsplit(":", 1)[-1]
    if item_class and item_class not in _TEXT_CLASSES:
        return None
    guid = clean(el.get("guid"))
    if not guid:
        raise WireError("structure", "a newsItem without a guid")
    headlines = list(children(content, "headline"))
    main = next((h for h in headlines if not h.get("role") or h.get("role", "").endswith("main")), None)
    headline = text(main) if main is not None else text(meta, "title")
    extended = next((text(h) for h in headlines if h is not main and "extended" in h.get("role", "")), "")
    take = None
    m = _HEADLINE_TAKE.match(headline)
    if m:
        take, headline = m.group(1), headline[m.end():]
    rights = child(el, "rightsInfo")
    holder = child(rights, "copyrightHolder")
    provider = child(meta, "provider")
    services = [text(s, "name") or attr(s, "qcode") for s in children(meta, "service")]
    by = text(content, "by")
    creators = [text(c, "name") or attr(c, "literal") for c in children(content, "creator")]
    notes = [text(n) for n in children(meta, "edNote")]
    located = child(content, "located")
    dateline = parse_dateline(text(content, "dateline"))
    if located is not None and not (dateline and dateline.get("location")):
        place = text(located, "name") or attr(located, "literal")
        if place:
            dateline = {"location": place, "date_text": (dateline or {}).get("date_text")}
    summary = next((text(d) for d in children(content, "description")
                    if any(r in d.get("role", "") for r in ("summary", "abstract"))), "") or extended
    body, words = _body(child(el, "contentSet"))
    return WireItem(
        format=NAME,
        guid=guid,
        headline=headline,
        body_html=body,
        summary=summary,
        version=to_int(el.get("version")),
        version_created=iso_utc(text(meta, "versionCreated")),
        first_created=iso_utc(text(meta, "firstCreated") or text(content, "contentCreated")),
        status=_STATUS.get(attr(meta, "qcode", "pubStatus").rsplit(":", 1)[-1].lower(), "usable"),
        slugline=text(content, "slugline") or None,
        take=take,
        byline=split_names(by) if by else [c for c in creators if c],
        dateline=dateline,
        urgency=urgency(text(content, "urgency")) or message_priority,
        subjects=[{"code": s.get("qcode") or s.get("uri"), "name": text(s, "name") or None, "scheme": None}
                  for s in children(content, "subject")],
        keywords=[text(k) for k in children(content, "keyword")],
        agency=agency_id(attr(provider, "literal"), attr(provider, "qcode"), text(provider, "name"),
                         attr(holder, "literal"), text(holder, "name")),
        service=next((s for s in services if s), None),
        rights={"holder": attr(holder, "literal") or text(holder, "name") or None,
                "notice": text(rights, "copyrightNotice") or None,
                "usage": text(rights, "usageTerms") or None},
        editorial_note="; ".join(n for n in notes if n) or None,
        language=attr(child(content, "language"), "tag") or clean(el.get(_XML_LANG)) or None,
        word_count=words,
    )


def _body(content_set: etree._Element | None) -> tuple[str, int | None]:
    """The richest inline rendition as HTML, and the word count it declares."""
    for el in children(content_set, "inlineXML"):
        words = to_int(el.get("wordcount"))
        nitf = next(descendants(el, "body.content"), None)
        if nitf is not None:
            return inner_html(nitf), words
        body = next(descendants(el, "body"), None)
        return inner_html(body if body is not None else el), words
    for el in children(content_set, "inlineData"):
        raw = el.text or ""
        if "html" in (el.get("contenttype") or ""):
            return raw.strip(), to_int(el.get("wordcount"))
        blocks = [clean(b) for b in re.split(r"\n\s*\n", raw)]
        return paragraphs_html(blocks), to_int(el.get("wordcount"))
    return "", None
