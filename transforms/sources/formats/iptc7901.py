"""IPTC 7901, the text wire format of the European agencies, as dpa and Keystone-SDA send it.

Read from the IPTC 7901 recommendation and dpa's published converters. A message is ``SOH``, the heading,
``STX``, the text, ``ETX``, ``EOT``. The heading holds the service code and sequence number, the priority
(1 = flash .. 6), the category ("pl", "wi", "i"...), the word count and optional information (the agency and
its own sequence: "dpa 2041"). The text starts with the keyword line ("/politics/Britain/EU/"), version
labels ("1ST LEAD", "REFILE", "CORRECTION", "EXTRA", "KILL") and editors' notes in parentheses, then the
headline ending in " =". The story follows in blank-line paragraphs wrapped at a fixed width; dpa closes it
with a notebook ("# Notebook": links, editorial contacts, notes), "* * * *" and "The following information is
not for publication", the desk code line ("dpa al rmo hct rmo") and the time stamp ("041137 GMT Mar 26",
day, hour and minute, month and year). Everything after the story goes to the editorial note, not the body.

Files exported with their control characters stripped (the heading line first, then the text) read alike.
A story's versions share its keyword line and date and are ordered by their time stamps.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone

from transforms.sources.dates import iso_z
from transforms.sources.formats.base import (
    ReadResult,
    WireError,
    WireItem,
    agency_id,
    clean,
    paragraphs_html,
    split_names,
    to_int,
    unwrap,
)
from transforms.sources.formats.registry import Sniff, register
from transforms.sources.formats.textwire import SOH, Message, decode, is_kill, is_label, messages, version_number

NAME = "iptc7901"
_HEADING = re.compile(r"^\s*([a-z]{1,4})(\d{4})\s+(\d)\s+([a-z]{1,3})\s+(\d{1,5})(?:\s+(.*))?$", re.I)
_KEYWORDS = re.compile(r"^/?(?:[^\s/][^/]{0,40}/){1,8}$")
_DESK = re.compile(r"^(?:dpa|sda|ats|apa|afp|dpa-AFX)(?: [a-z0-9]{1,5}){1,8}$")
_STAMP = re.compile(r"^(\d{2})(\d{2})(\d{2})\s+(?:GMT\s+|MEZ\s+|UTC\s+)?([A-Za-z\u00e4\u00c4]{3,4})\.?\s+(\d{2})$")
_NOTEBOOK = re.compile(r"^#\s*(?:Notebook|Notizblock|Bloc-notes)\b|^\*\s*\*\s*\*\s*\*|"
                       r"^The following information is not (?:intended )?for publication|"
                       r"^Die folgenden Informationen sind nicht zur Ver\u00f6ffentlichung", re.I)
_REPORTER = re.compile(r"^-?\s*(?:Reporting by|Written by|Autor(?:in)?|Von):\s*(.+)$", re.I)
_MONTHS = {m: i + 1 for i, names in enumerate([
    ("jan", "j\u00e4n"), ("feb",), ("mar", "m\u00e4r", "mrz"), ("apr",), ("may", "mai"), ("jun",), ("jul",),
    ("aug",), ("sep", "sept"), ("oct", "okt"), ("nov",), ("dec", "dez")]) for m in names}
# Priority digits to IPTC urgency (1 = flash).
_PRIORITY = {1: 1, 2: 2, 3: 3, 4: 5, 5: 7, 6: 8}


def _sniff(probe: Sniff) -> bool:
    if probe.kind != "text":
        return False
    head = probe.head.lstrip("\r\n ")
    first = head.lstrip(SOH).split("\n", 1)[0].strip("\r\x02")
    return bool(_HEADING.match(first)) and (head.startswith(SOH) or "\n" in head)


@register(NAME, _sniff)
def read(body: bytes, source: str) -> ReadResult:
    text = decode(body).replace("\r\n", "\n").replace("\r", "\n")
    if SOH in text:
        found = messages(text)
    else:  # exported without control characters: the heading line, then the text
        heading, _, rest = text.lstrip("\n ").partition("\n")
        found = [Message(heading, rest, "")]
    result = ReadResult(NAME)
    for message in found:
        item = _item(message)
        if item is None:
            result.skipped["empty_message"] += 1
        else:
            result.items.append(item)
    if not result.items:
        raise WireError("empty", f"{len(found)} IPTC 7901 message(s), none with any text")
    return result


def _item(message: Message) -> WireItem | None:
    heading = _HEADING.match(message.heading.strip().split("\n")[0]) if message.heading.strip() else None
    lines = [ln.rstrip() for ln in message.text.strip("\x02").split("\n")]
    keywords, labels, notes, headline = None, [], [], []
    i = 0
    while i < len(lines):  # keyword line, labels, notes, headline up to " ="
        line = lines[i].strip()
        i += 1
        if not line:
            if headline:
                break
            continue
        if keywords is None and not headline and _KEYWORDS.match(line):
            keywords = line
        elif not headline and is_label(line):
            labels.append(line.strip(" ()"))
        elif not headline and line.startswith("(") and line.endswith(")"):
            notes.append(line.strip("()").strip())
        else:
            headline.append(line)
            if line.endswith("="):
                break
    story, tail = _split_tail(lines[i:])
    paragraphs = [p for block in _blocks(story) for p in unwrap(block)]
    title = clean(" ".join(headline)).rstrip("=").strip()
    if not paragraphs and not title:
        return None
    sent, desk, after = _tail_fields(tail)
    notes += after["notes"]
    agency = agency_id((heading.group(6) or "").split(" ")[0] if heading else None,
                       desk.split(" ")[0] if desk else None)
    if agency is None and paragraphs:
        m = re.search(r"\((dpa|SDA|ATS|APA)(?:/[a-z]+)?\)", paragraphs[0])
        agency = agency_id(m.group(1)) if m else None
    take = " ".join(labels) or None
    story_key = _key(keywords) or hashlib.sha256(title.encode()).hexdigest()[:16]
    return WireItem(
        format=NAME,
        guid=f"iptc7901:{agency or 'wire'}:{(sent or '')[:10]}:{story_key}",
        headline=title,
        body_html=paragraphs_html(paragraphs),
        version=version_number(take),
        version_created=sent,
        status="canceled" if is_kill(take) or is_kill(title.split(":")[0]) else "usable",
        slugline=keywords,
        take=take,
        byline=after["byline"],
        urgency=_PRIORITY.get(to_int(heading.group(3)) or 0) if heading else None,
        category=heading.group(4).lower() if heading else None,
        keywords=[k for k in (keywords or "").strip("/").split("/") if k],
        agency=agency,
        service=heading.group(1).lower() if heading else None,  # the service code; the digits are a sequence
        editorial_note="; ".join(n for n in notes if n) or None,
        word_count=to_int(heading.group(5)) if heading else None,
        ordered_by="time",
    )


def _split_tail(lines: list[str]) -> tuple[list[str], list[str]]:
    """The story's lines and what follows it (notebook, contacts, desk code, time stamp)."""
    for i, line in enumerate(lines):
        s = line.strip()
        if _NOTEBOOK.match(s) or _DESK.match(s) or _STAMP.match(s):
            return lines[:i], lines[i:]
    return lines, []


def _blocks(lines: list[str]) -> list[list[str]]:
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def _tail_fields(tail: list[str]) -> tuple[str | None, str, dict]:
    """(the time stamp as ISO UTC, the desk code line, {"notes", "byline"}) from the lines after the story."""
    sent, desk = None, ""
    notes: list[str] = []
    byline: list[str] = []
    for block in _blocks(tail):
        for line in unwrap(block):
            if _STAMP.match(line):
                sent = _stamp_time(line)
            elif _DESK.match(line):
                desk = line
            else:
                m = _REPORTER.match(line)
                if m:
                    byline += split_names(m.group(1))
                if line.startswith("#") or _NOTEBOOK.match(line):
                    continue  # section headings and the not-for-publication notice itself
                notes.append(line.lstrip("-* ").strip())
    return sent, desk, {"notes": notes, "byline": byline}


def _stamp_time(line: str) -> str | None:
    """"041137 GMT Mar 26" -> "2026-03-04T11:37:00Z"; German month names too ("251037 Sep 24")."""
    m = _STAMP.match(line)
    if not m:
        return None
    day, hour, minute, month, year = m.groups()
    number = _MONTHS.get(month.lower()[:3]) or _MONTHS.get(month.lower())
    if number is None:
        return None
    try:
        return iso_z(datetime(2000 + int(year), number, int(day), int(hour), int(minute), tzinfo=timezone.utc))
    except ValueError:
        return None


def _key(keywords: str | None) -> str | None:
    if not keywords:
        return None
    return re.sub(r"[^\w/]+", "-", keywords.strip("/").lower()).strip("-") or None
