"""What the text wire formats (ANPA-1312, IPTC 7901, PR wires) share: bytes to text, the SOH ... EOT message
framing, and the version labels agencies put on updated copy.

Both ANPA-1312 and IPTC 7901 frame a message with control characters: SOH (0x01) starts the heading, STX
(0x02) the text, ETX (0x03) ends the text, EOT (0x04) the message; ANPA puts two SYN (0x16) in front. A
capture file may hold several messages back to back.

A version label says what a message does to the story it updates: AP's "1st Ld-Writethru" and "Correction",
dpa's "1ST LEAD", "REFILE" and "CORRECTION", a "KILL" or "WITHDRAWAL" that withdraws it. The label's number,
when it has one, is kept as the version; the order of versions comes from the transmission time, since a
correction does not say which version it follows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SOH, STX, ETX, EOT, SYN = "\x01", "\x02", "\x03", "\x04", "\x16"

_ORDINAL = re.compile(r"\b(\d+)\s*(?:st|nd|rd|th)\s*(?:Ld|Lead|Add|Writethru)\b", re.I)
_KILL = re.compile(r"\b(?:KILL|KILLED|WITHDRAWAL|WITHDRAWN|WITHDRAW|ELIMINATION|ANNULATION|STOPP)\b")
_LABELS = re.compile(r"\b(?:\d+\s*(?:st|nd|rd|th)\s*(?:Ld|Lead|Add)(?:[- ]Writethru)?|Writethru|Correction|"
                     r"Corrects|CORRECTED|REFILE|REPEAT|RPT|UPDATE(?: \d+)?|EXTRA|URGENT|KILL|WITHDRAWAL|"
                     r"ADVISORY|SUB|SUBSTITUTE|INSERT)\b", re.I)


def decode(body: bytes) -> str:
    """UTF-8 when the bytes are UTF-8, else Windows-1252 (a superset of the 7-bit ASCII ANPA is defined in)."""
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return body.decode("cp1252", "replace")


@dataclass
class Message:
    heading: str  # between SOH and STX
    text: str  # between STX and ETX
    trailer: str  # after ETX, up to EOT


def messages(text: str) -> list[Message]:
    """Every SOH ... EOT message of ``text``, in order; a message cut short keeps what it has."""
    out = []
    for chunk in text.split(SOH)[1:]:
        chunk = chunk.split(EOT, 1)[0]
        heading, _, rest = chunk.partition(STX)
        body, _, trailer = rest.partition(ETX)
        out.append(Message(heading.strip(SYN), body, trailer))
    return out


def version_number(label: str | None) -> int | None:
    """1 for "1st Ld-Writethru" or "1ST LEAD", 2 for "2nd Ld"; None when the label has no number."""
    if not label:
        return None
    m = _ORDINAL.search(label)
    if m:
        return int(m.group(1))
    return 1 if re.search(r"\bWritethru\b", label, re.I) else None


def is_kill(label: str | None) -> bool:
    return bool(label and _KILL.search(label.upper()))


def is_label(line: str) -> bool:
    """True for a line that is only a version label ("1ST LEAD", "REFILE", "(Corrects ...)" is not)."""
    stripped = line.strip(" ()")
    return bool(stripped) and len(stripped) <= 40 and not _LABELS.sub("", stripped).strip(" -,/")
