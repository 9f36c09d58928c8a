"""Press releases as PR wires send them in plain text: PR Newswire (and its AsiaNet service), Business Wire,
GlobeNewswire.

No specification covers these; they follow one pattern, read from the wires' published releases. An optional
service line ("AsiaNet 0104412"), the headline (and sub-headlines), then the text, whose first paragraph opens
with the dateline and the wire's credit ("SINGAPORE, March 4, 2026 /PRNewswire-AsiaNet/ --"), wrapped at a
fixed width with blank lines between paragraphs. After the text: media links ("Photo - http...",
"Logo - http..."), "SOURCE" and the issuer, and a contact block. Those go to fields; the text keeps its
paragraphs, rejoined. A correction ("CORRECTION -- Company") is a new version of the release it corrects.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from transforms.sources.dates import iso_z
from transforms.sources.formats.base import ReadResult, WireError, WireItem, clean, paragraphs_html, unwrap
from transforms.sources.formats.registry import Sniff, register
from transforms.sources.formats.textwire import decode

NAME = "prwire"
_CREDIT = re.compile(r"/(PRNewswire(?:-[A-Za-z]+)*|PRNewswire-AsiaNet|AsiaNet|GLOBE NEWSWIRE|Newsfile)/\s*--|"
                     r"--\s*\((BUSINESS WIRE)\)\s*--")
_DATELINE = re.compile(r"^(?P<place>[A-Z][^/\n]{1,80}?),\s+(?P<date>[A-Z][a-z]{2,8}\.? \d{1,2},? \d{4})\s+"
                       r"(?:/[^/]+/|--\s*\([^)]+\))\s*--\s*")
_SERVICE_LINE = re.compile(r"^(AsiaNet|PRN Asia|PR Newswire)\s+(\d{3,})$", re.I)
_MEDIA = re.compile(r"^(?:Photo|Logo|Video|Multimedia|Infographic)s?\s*[-:\u2013]\s*https?://\S+", re.I)
_SOURCE = re.compile(r"^SOURCE:?\s+(.+)$")
_CONTACT = re.compile(r"^(?:CONTACTS?|Media contacts?|Media enquiries|Press contacts?|For further information)\b:?",
                      re.I)
_CORRECTION = re.compile(r"^(CORRECTION|UPDATE|REPEAT)\s*[-\u2013\u2014:]+\s*", re.I)


def _sniff(probe: Sniff) -> bool:
    return probe.kind == "text" and bool(_CREDIT.search(probe.head))


@register(NAME, _sniff)
def read(body: bytes, source: str) -> ReadResult:
    text = decode(body).replace("\r\n", "\n").replace("\r", "\n")
    blocks = [b.split("\n") for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
    start = next((i for i, b in enumerate(blocks) if _CREDIT.search(" ".join(b))), None)
    if start is None:
        raise WireError("structure", "no wire credit (/PRNewswire/, (BUSINESS WIRE)...) in the release")
    service_line = _SERVICE_LINE.match(clean(" ".join(blocks[0]))) if blocks else None
    heads = [clean(" ".join(b)) for b in blocks[1 if service_line else 0:start]]
    story, notes, media, issuer = [], [], [], None
    in_contact = False
    for block in blocks[start:]:
        lines = [ln.strip() for ln in block if ln.strip()]
        if _SOURCE.match(lines[0]) and len(lines) == 1:
            issuer = clean(_SOURCE.match(lines[0]).group(1))
            continue
        if _CONTACT.match(lines[0]):
            in_contact = True
        if in_contact:
            notes.append(" ".join(lines))
            continue
        kept = []
        for line in lines:
            m = _SOURCE.match(line)
            if m:
                issuer = clean(m.group(1))
            elif _MEDIA.match(line):
                media.append(line)
            else:
                kept.append(line)
        story += unwrap(kept)
    if not story:
        raise WireError("empty", "a release with no text after its dateline")
    credit = _CREDIT.search(" ".join(blocks[start]))
    wire = clean(credit.group(1) or credit.group(2)) if credit else "PR wire"
    m = _DATELINE.match(story[0])
    date = _date(m.group("date")) if m else None
    headline = heads[0] if heads else story[0][:120]
    correction = _CORRECTION.match(headline)
    plain_headline = headline[correction.end():] if correction else headline
    key = (f"{service_line.group(1).lower()}:{service_line.group(2)}" if service_line and not correction else
           f"{(date or '')[:10]}:{re.sub(r'[^a-z0-9]+', '-', plain_headline.lower()).strip('-')[:80]}")
    return ReadResult(NAME, items=[WireItem(
        format=NAME,
        guid=f"prwire:{key}",
        headline=plain_headline,
        body_html=paragraphs_html(story),
        summary=" ".join(heads[1:]),
        version=1 if correction else None,
        version_created=date,
        take=correction.group(1).upper() if correction else None,
        dateline={"location": m.group("place"), "date_text": m.group("date")} if m else None,
        agency="prwire",
        service=wire,
        rights={"holder": issuer},
        editorial_note="; ".join(media + notes) or None,
        keywords=[issuer] if issuer else [],
        language="en",
        ordered_by="time",
    )])


def _date(text: str) -> str | None:
    for fmt in ("%B %d, %Y", "%b %d, %Y", "%b. %d, %Y", "%B %d %Y"):
        try:
            return iso_z(datetime.strptime(text, fmt).replace(tzinfo=timezone.utc))
        except ValueError:
            continue
    return None
