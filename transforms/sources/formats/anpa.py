"""ANPA-1312, the 7-bit wire format of AP and the agencies that adopted it (Kyodo's English service among them).

Read from the ANPA-1312 specification as AP transmits it. A message is ``SYN SYN SOH``, the heading, ``STX``,
the text, ``ETX``, a time stamp, ``EOT``. The heading's first line holds the service level, the message number
and, after a unit separator, the selector codes; the second holds the priority code, the category code,
format and storage codes (DC1..DC4), the keyword (slug), the version, the date and the word count. The text
opens with typesetting lines that start with ``^`` and end with ``<`` (quad left) or ``=``: the slug line
again with its version and word count, the headline, a summary, photo and editor's notes (``^Eds:``), the
byline (``^By NAME=``) and its title (``^Associated Press=``). Paragraphs start with a tab (AP) or an
indent (copy wrapped at a fixed width, as Kyodo's); ``^END<`` ends the story. ANPA's 7-bit conventions are
undone: ```` and '' for curly quotes, " _ " for a dash.

The selector codes name the service the message went out on. A story's versions share its keyword
(without the AM-/PM-/BC- cycle) and date; they are ordered by their time stamps. A "KILL" version withdraws
the story.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

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
)
from transforms.sources.formats.registry import Sniff, register
from transforms.sources.formats.textwire import SOH, Message, decode, is_kill, messages, version_number

NAME = "anpa1312"
_FIRST = re.compile(r"^\x16*\x01?([a-z])(\d{4})\x1f", re.I)
_SECOND = re.compile(r"^([a-z])\s+([a-z])[\x11-\x14]*\s*(\S+)\s*(.*?)\s+(\d{1,2})-(\d{1,2})\s+(\d{1,4})\s*$", re.I)
_STAMP = re.compile(r"\b([A-Z]{2,6})-([A-Z]{2,4})-(\d\d)-(\d\d)-(\d\d)\s+(\d{2})(\d{2})\s*(GMT|UTC|[ECMP][SD]T)?<?\s*$")
_SLUG_LINE = re.compile(r"^(?:[A-Z]{2}-)?[A-Z]{2,4}-{1,2}[\w.'\-]")
_CYCLE = re.compile(r"^(?:AM|PM|BC|AP)-", re.I)
# Priority codes to IPTC urgency (1 = flash): flash, bulletin, urgent, regular, deferred, advance, weekend advance.
_PRIORITY = {"f": 1, "b": 2, "u": 3, "r": 5, "d": 7, "a": 8, "w": 8, "s": 6}
_ZONES = {"GMT": 0, "UTC": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7}
_STAMP_AGENCY = {"AP": "ap", "KY": "kyodo", "KYODO": "kyodo", "CP": "cp", "AAP": "aap"}


def _sniff(probe: Sniff) -> bool:
    return probe.kind == "text" and bool(_FIRST.match(probe.head.lstrip(" \r\n")))


@register(NAME, _sniff)
def read(body: bytes, source: str) -> ReadResult:
    text = decode(body)
    if SOH not in text:
        raise WireError("structure", "no ANPA message (no SOH) in the file")
    result = ReadResult(NAME)
    found = messages(text)
    for message in found:
        item = _item(message)
        if item is None:
            result.skipped["empty_message"] += 1
        else:
            result.items.append(item)
    if not result.items:
        raise WireError("empty", f"{len(found)} ANPA message(s), none with any text")
    return result


def _typeset(line: str) -> str:
    """ANPA's 7-bit stand-ins to the characters they stand for."""
    line = line.replace("``", "\u201c").replace("''", "\u201d")
    return re.sub(r"(?<=\S) _ (?=\S)|(?<=\)) _$", " \u2014 ", line).replace("  ", " ")


def _item(message: Message) -> WireItem | None:
    heading = [ln for ln in message.heading.replace("\r", "").split("\n") if ln.strip()]
    second = _SECOND.match(heading[1]) if len(heading) > 1 else None
    lines = message.text.replace("\r", "").split("\n")
    header: list[str] = []
    body_lines: list[str] = []
    for line in lines:
        if not body_lines and line.startswith("^"):
            header.append(line[1:].rstrip())
        elif line.strip().startswith("^END"):
            break
        elif line.strip():
            body_lines.append(line.rstrip())
    stamp = _STAMP.search(message.trailer) or (_STAMP.search(body_lines[-1]) if body_lines else None)
    if stamp and body_lines and _STAMP.search(body_lines[-1]):
        body_lines.pop()
    fields = _header_fields([h for h in header if h])
    paragraphs = _paragraphs(body_lines)
    if not paragraphs and not fields["headline"]:
        return None
    slug = second.group(3) if second else fields["slug"]
    take = fields["take"] or (clean(second.group(4)) if second and second.group(4).strip() else None)
    sent = _stamp_time(stamp)
    month, day = (int(second.group(5)), int(second.group(6))) if second else (None, None)
    year = sent[:4] if sent else "0000"
    date_key = f"{year}-{month:02d}-{day:02d}" if month else (sent or "")[:10]
    agency = (_STAMP_AGENCY.get(stamp.group(1)) if stamp else None) or agency_id(*fields["credits"])
    if agency is None and paragraphs and "(AP)" in paragraphs[0]:
        agency = "ap"
    if not slug:
        raise WireError("structure", "an ANPA message without a keyword")
    core = _CYCLE.sub("", slug).strip().lower().replace(" ", "-")
    killed = is_kill(take) or fields["kill"]
    return WireItem(
        format=NAME,
        guid=f"anpa:{agency or 'wire'}:{date_key}:{core}",
        headline=fields["headline"],
        body_html=paragraphs_html(paragraphs),
        summary=fields["summary"],
        version=version_number(take),
        version_created=sent,
        status="canceled" if killed else "usable",
        slugline=fields["slug"] or slug,
        take=take or None,
        byline=fields["byline"],
        urgency=_PRIORITY.get(second.group(1).lower()) if second else None,
        category=second.group(2).lower() if second else None,
        agency=agency,
        service=_selector(message.heading),
        editorial_note="; ".join(fields["notes"]) or None,
        word_count=to_int(second.group(7)) if second else fields["words"],
        ordered_by="time",
    )


def _selector(heading: str) -> str | None:
    """The selector code after the unit separator ("apn--" -> "apn"): the service the message was sent on."""
    first = heading.replace("\r", "").split("\n", 1)[0]
    code = first.split("\x1f", 1)[1].strip().strip("-").lower() if "\x1f" in first else ""
    return code or None


def _header_fields(header: list[str]) -> dict:
    """The typesetting lines ahead of the text: lines ending in "=" are the byline block, "<" the rest."""
    out: dict = {"slug": None, "take": None, "words": None, "headline": "", "summary": "", "notes": [],
                 "byline": [], "credits": [], "kill": False}
    for i, raw in enumerate(header):
        line = raw.rstrip("<=").strip()
        if not line:
            continue
        if raw.endswith("="):
            if re.match(r"^By [A-Z]", line):
                out["byline"] = split_names(line)
            else:
                out["credits"].append(line)  # "Associated Press", "AP Sports Writer"
        elif i == 0 and _SLUG_LINE.match(line):
            parts = [p.strip() for p in line.split(",")]
            if len(parts) > 1 and parts[-1].isdigit():
                out["words"] = to_int(parts.pop())
            out["slug"], out["take"] = parts[0], ", ".join(parts[1:]) or None
        elif re.match(r"^(?:Eds|EDITOR'?S NOTE|Editors?)\b", line, re.I) or line.startswith(("AP Photo", "With AP")):
            out["notes"].append(line)
            out["kill"] = out["kill"] or bool(re.match(r"^Eds:\s*KILL\b", line, re.I))
        elif line.upper() in ("KILL", "KILLED", "WITHDRAWAL"):
            out["kill"] = True
        elif not out["headline"]:
            out["headline"] = _typeset(line)
        elif not out["summary"]:
            out["summary"] = _typeset(line)
        else:
            out["notes"].append(line)
    return out


def _paragraphs(lines: list[str]) -> list[str]:
    """Body lines to paragraphs: a tab or an indent starts one, an unindented line continues the last."""
    paragraphs: list[str] = []
    for line in lines:
        starts = line.startswith(("\t", "  ", "==", "___")) or not paragraphs
        content = _typeset(line.strip().lstrip("^").rstrip("<").strip())
        if not content:
            continue
        if starts:
            paragraphs.append(content)
        else:
            paragraphs[-1] = f"{paragraphs[-1]} {content}"
    return paragraphs


def _stamp_time(stamp: re.Match[str] | None) -> str | None:
    """"AP-WF-03-04-26 1423GMT" -> "2026-03-04T14:23:00Z"."""
    if stamp is None:
        return None
    _, _, month, day, year, hour, minute, zone = stamp.groups()
    try:
        local = datetime(2000 + int(year), int(month), int(day), int(hour), int(minute), tzinfo=timezone.utc)
    except ValueError:
        return None
    return iso_z(local - timedelta(hours=_ZONES.get((zone or "GMT").upper(), 0)))
