"""IPTC NewsML 1.x: a ``NewsML`` document of one or more ``NewsItem``s, each a tree of ``NewsComponent``s.

Read from the NewsML 1.2 specification (IPTC): ``Identification/NewsIdentifier`` names the item
(``ProviderId``, ``DateId``, ``NewsItemId``, ``RevisionId``); ``NewsManagement`` gives its times,
``Status`` (Usable, Canceled, Withheld, Embargoed) and ``Urgency``; each ``NewsComponent`` may carry
``NewsLines`` (headline, byline, dateline, slugline, keyword, credit and copyright lines) and
administrative, rights and descriptive metadata (subjects, language); the text sits in a ``ContentItem``
whose ``DataContent`` is plain text, HTML/XHTML or NITF.

A NewsItem may bundle several stories (AFP sends briefs that way): every component with text of its own
and headlines nearer than the item's becomes one story, identified by the item and the component's Duid.
Metadata is inherited down the tree: the nearest component that says something wins. A NewsItem that only
points at others (``NewsItemRef``) is a package: counted, not read.
"""

from __future__ import annotations

import base64
import binascii
import re

from lxml import etree

from transforms.sources.formats.base import (
    ReadResult,
    WireError,
    WireItem,
    agency_id,
    iso_utc,
    paragraphs_html,
    split_names,
    to_int,
    unwrap,
    urgency,
)
from transforms.sources.formats.datelines import parse_dateline
from transforms.sources.formats.registry import Sniff, register
from transforms.sources.formats.xmltools import attr, child, children, descendants, inner_html, local, parse_xml, text

NAME = "newsml1"
_STATUS = {"usable": "usable", "canceled": "canceled", "cancelled": "canceled", "withheld": "withheld",
           "embargoed": "withheld"}
_TEXT_MEDIA = {"text", "complexdata"}


def _sniff(probe: Sniff) -> bool:
    return probe.kind == "xml" and probe.root == "NewsML"


@register(NAME, _sniff)
def read(body: bytes, source: str) -> ReadResult:
    root = parse_xml(body)
    if local(root) != "NewsML":
        raise WireError("structure", f"<{local(root)}> is not a NewsML 1.x document")
    envelope = child(root, "NewsEnvelope")
    result = ReadResult(NAME)
    news_items = list(children(root, "NewsItem"))
    if not news_items:
        raise WireError("empty", "a NewsML document without a NewsItem")
    for news_item in news_items:
        stories = _stories(news_item)
        non_text = [c for c in descendants(news_item, "ContentItem") if not _is_text(c)]
        if non_text:
            result.skipped["non_text"] += len(non_text)
        if not stories:
            if next(descendants(news_item, "NewsItemRef"), None) is not None:
                result.packages += 1
            elif not non_text:
                result.skipped["no_text"] += 1
            continue
        for component, contents in stories:
            item = _item(news_item, envelope, component, contents, several=len(stories) > 1)
            result.items.append(item)
    return result


def _is_text(content: etree._Element) -> bool:
    media = attr(content, "FormalName", "MediaType").lower()
    return (media in _TEXT_MEDIA or not media) and child(content, "DataContent") is not None


def _stories(news_item: etree._Element) -> list[tuple[etree._Element, list[etree._Element]]]:
    """(the component that heads a story, its text ContentItems), in document order."""
    groups: dict[etree._Element, list[etree._Element]] = {}
    for content in descendants(news_item, "ContentItem"):
        if not _is_text(content):
            continue
        head = content.getparent()
        while head is not None and local(head) == "NewsComponent" and not text(head, "NewsLines", "HeadLine"):
            parent = head.getparent()
            if parent is None or local(parent) != "NewsComponent":
                break
            head = parent
        groups.setdefault(head if head is not None else news_item, []).append(content)
    return list(groups.items())


def _lineage(component: etree._Element, news_item: etree._Element) -> list[etree._Element]:
    """The component and its ancestor components, nearest first."""
    out = []
    el: etree._Element | None = component
    while el is not None and el is not news_item:
        if local(el) == "NewsComponent":
            out.append(el)
        el = el.getparent()
    return out


def _nearest(lineage: list[etree._Element], *path: str) -> str:
    return next((t for t in (text(c, *path) for c in lineage) if t), "")


def _item(news_item: etree._Element, envelope: etree._Element | None, component: etree._Element,
          contents: list[etree._Element], several: bool) -> WireItem:
    ident = child(news_item, "Identification", "NewsIdentifier")
    management = child(news_item, "NewsManagement")
    provider_id, date_id, item_id = text(ident, "ProviderId"), text(ident, "DateId"), text(ident, "NewsItemId")
    if not item_id:
        raise WireError("structure", "a NewsItem without a NewsItemId")
    guid = f"urn:newsml:{provider_id}:{date_id}:{item_id}"
    if several:
        guid += f"#{component.get('Duid') or _index(component)}"
    lineage = _lineage(component, news_item)
    byline = _nearest(lineage, "NewsLines", "ByLine")
    subjects = []
    for c in lineage:
        for code in descendants(child(c, "DescriptiveMetadata"), "Subject", "SubjectMatter", "SubjectDetail"):
            subjects.append({"code": code.get("FormalName"), "name": None, "scheme": code.get("Scheme")})
        for topic in descendants(child(c, "TopicSet"), "Topic"):
            names = [d for d in children(topic, "Description") if d.get("Variant") == "Name"]
            english = next((d for d in names if d.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"), None)
            subjects.append({"code": text(topic, "FormalName"), "name": text(english) or None,
                             "scheme": attr(topic, "Scheme", "FormalName")})
    party = next((attr(c, "FormalName", "AdministrativeMetadata", role, "Party")
                  for c in lineage for role in ("Provider", "Source", "Creator")
                  if attr(c, "FormalName", "AdministrativeMetadata", role, "Party")), "")
    rights = next((child(c, "RightsMetadata") for c in lineage if child(c, "RightsMetadata") is not None), None)
    copyright_line = _nearest(lineage, "NewsLines", "CopyrightLine")
    holder = text(rights, "Copyright", "CopyrightHolder") or None
    keywords = [text(k) for c in lineage for k in children(child(c, "NewsLines"), "KeywordLine")]
    language = next((attr(c, "FormalName", "DescriptiveMetadata", "Language") for c in lineage
                     if attr(c, "FormalName", "DescriptiveMetadata", "Language")), "")
    body = "".join(_content_html(c) for c in contents)
    return WireItem(
        format=NAME,
        guid=guid,
        headline=_nearest(lineage, "NewsLines", "HeadLine") or text(ident.getparent(), "NameLabel"),
        body_html=body,
        summary=_nearest(lineage, "NewsLines", "SubHeadLine"),
        version=to_int(text(ident, "RevisionId")),
        version_created=iso_utc(text(management, "ThisRevisionCreated")) or iso_utc(text(envelope, "DateAndTime")),
        first_created=iso_utc(text(management, "FirstCreated")),
        status=_STATUS.get(attr(management, "FormalName", "Status").lower(), "usable"),
        slugline=_nearest(lineage, "NewsLines", "SlugLine") or None,
        take=attr(management, "FormalName", "Instruction") or None,
        byline=split_names(byline) if byline else [],
        dateline=parse_dateline(_nearest(lineage, "NewsLines", "DateLine")),
        urgency=urgency(attr(management, "FormalName", "Urgency")) or urgency(
            attr(envelope, "FormalName", "Priority")),
        subjects=subjects,
        keywords=keywords,
        agency=agency_id(party, _nearest(lineage, "NewsLines", "CreditLine"), holder, provider_id),
        service=attr(envelope, "FormalName", "NewsService") or attr(envelope, "FormalName", "NewsProduct") or None,
        rights={"holder": holder, "notice": copyright_line or None,
                "usage": text(rights, "UsageRights", "Limitations") or None},
        language=language.lower() or None,
        word_count=None,
    )


def _index(component: etree._Element) -> int:
    parent = component.getparent()
    return list(children(parent, "NewsComponent")).index(component) + 1 if parent is not None else 1


def _content_html(content: etree._Element) -> str:
    data = child(content, "DataContent")
    fmt = attr(content, "FormalName", "Format").lower()
    if data is None:
        return ""
    if attr(content, "Notation", "Encoding").lower() == "base64":
        try:
            raw = base64.b64decode(data.text or "").decode("utf-8", "replace")
        except (binascii.Error, ValueError) as e:
            raise WireError("encoding", f"a base64 DataContent that does not decode: {e}") from e
        return _text_or_html(raw, fmt)
    nitf = next(descendants(data, "body.content"), None)
    if nitf is not None:
        return inner_html(nitf)
    if len(data):  # XHTML elements inline
        return inner_html(data)
    return _text_or_html(data.text or "", fmt)


def _text_or_html(raw: str, fmt: str) -> str:
    if "html" in fmt or re.search(r"<(?:p|br|div)\b", raw, re.I):
        return raw.strip()
    blocks = re.split(r"\n\s*\n", raw.replace("\r\n", "\n"))
    return paragraphs_html([p for b in blocks for p in unwrap(b.split("\n"))])
