"""What every wire reader returns, and the small helpers they share.

A reader is a plain function ``read(body: bytes, source: str) -> ReadResult``: the bytes of one file or one
HTTP response, and where they came from (for messages only). It returns every text story of the document as a
``WireItem``: the headline, the body as HTML, and each structured field of the format in a field of its own
(never in the body). Packages that only reference other items are counted, not returned; items that are not
text (pictures, video) are counted as skipped. A document that cannot be read at all raises ``WireError``
with a short kind ("xml", "charset", "empty", "package_without_items", ...) and a one-line message.

Versions: each item carries its story's identity (``guid``, the same for every version) and what orders its
versions. Formats with version numbers (NewsML-G2, NewsML 1.x, NITF, ninjs, AP JSON) order by number, then
time; text formats (ANPA-1312, IPTC 7901, PR wires) carry no number worth trusting (a correction does not say
which version it follows), so they order by transmission time. ``version_key`` folds either into one
integer that grows with every newer version, which is what the index compares before it writes.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import timezone
from typing import Any

from transforms.sources.dates import iso_z, parse_iso

WITHDRAWN = ("canceled", "withheld")
STATUSES = ("usable",) + WITHDRAWN
_VERSION_SPAN = 100_000_000_000  # one version number outweighs any epoch second (up to the year 5138)


class WireError(ValueError):
    """A document no story could be read from; ``kind`` names what was wrong for the counters."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass
class WireItem:
    """One text story of a wire document, its structured fields apart from its text."""

    format: str
    guid: str  # the story's identity: the same for all its versions
    headline: str = ""
    body_html: str = ""
    summary: str = ""
    version: int | None = None  # the version number the format gives (None: ordered by time)
    version_created: str | None = None  # ISO 8601 UTC: when this version was made or sent
    first_created: str | None = None
    status: str = "usable"  # usable | canceled | withheld
    slugline: str | None = None
    take: str | None = None  # the version label as written: "1st Ld-Writethru", "1ST LEAD", "REFILE", "KILL"
    byline: list[str] = field(default_factory=list)
    dateline: dict[str, str | None] | None = None  # {"location", "date_text"} from the format's own element
    urgency: int | None = None  # 1 (flash) .. 9 (lowest), IPTC urgency
    category: str | None = None  # ANPA / IPTC 7901 category code, NITF anpa-category
    subjects: list[dict[str, str | None]] = field(default_factory=list)  # {"code", "name", "scheme"}
    keywords: list[str] = field(default_factory=list)
    agency: str | None = None  # rule-pack id of the agency: "reuters", "ap", "dpa"...
    service: str | None = None  # the agency's service or product
    rights: dict[str, str | None] = field(default_factory=dict)  # {"holder", "notice", "usage"}
    editorial_note: str | None = None
    language: str | None = None
    url: str | None = None
    word_count: int | None = None
    ordered_by: str = "version"  # version | time

    @property
    def withdrawn(self) -> bool:
        return self.status in WITHDRAWN

    @property
    def version_key(self) -> int:
        """One integer per version, larger for newer versions of the same story (see the module docstring)."""
        seconds = epoch_seconds(self.version_created)
        if self.ordered_by == "time":  # the label's number only breaks ties between versions sent the same second
            return seconds * 100 + min(max(self.version or 0, 0), 99)
        return max(self.version or 0, 0) * _VERSION_SPAN + seconds

    def wire_fields(self) -> dict[str, Any]:
        """The ``wire`` dict an Article carries: every structured field, none of the text."""
        return {
            "format": self.format,
            "uri": self.guid,
            "version": self.version,
            "version_key": self.version_key,
            "version_created": self.version_created,
            "status": self.status,
            "slugline": self.slugline,
            "take": self.take,
            "priority": self.urgency,
            "category": self.category,
            "subjects": [dict(s) for s in self.subjects],
            "keywords": list(self.keywords),
            "service": self.service,
            "rights": {k: v for k, v in self.rights.items() if v},
            "editorial_note": self.editorial_note,
            "word_count": self.word_count,
        }


@dataclass
class ReadResult:
    """The stories of one document and what was counted instead of read."""

    format: str | None
    items: list[WireItem] = field(default_factory=list)
    packages: int = 0  # package items that only reference other items
    skipped: Counter = field(default_factory=Counter)  # reason -> items not read (non_text, no_text...)
    error_kind: str | None = None  # set when nothing could be read
    error: str | None = None


# --- text ---------------------------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")


def clean(text: str | None) -> str:
    """Whitespace collapsed, ends stripped; None -> ""."""
    return _SPACES.sub(" ", text).strip() if text else ""


def paragraphs_html(paragraphs: list[str]) -> str:
    """Plain paragraphs as HTML, so every reader hands the clean stage the same kind of body."""
    return "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs if p.strip())


def unwrap(lines: list[str], width: int | None = None) -> list[str]:
    """Lines of one block of hard-wrapped text joined back into its paragraphs and short lines.

    A line that reaches close to the block's width was wrapped, so the next line continues it; a short line
    ends its paragraph (or is a line of its own, as in a contact block).
    """
    lines = [ln.strip() for ln in lines]
    lines = [ln for ln in lines if ln]
    if not lines:
        return []
    width = width or max(len(ln) for ln in lines)
    wrapped_at = max(40, int(width * 0.72))
    out: list[str] = []
    current = lines[0]
    for prev, line in zip(lines, lines[1:], strict=False):
        if len(prev) >= wrapped_at and not line.startswith(("- ", "* ", "\u2022")):
            current = f"{current} {line}"
        else:
            out.append(current)
            current = line
    out.append(current)
    return out


def split_names(byline: str) -> list[str]:
    """'By JANE DOE and Li Wei' -> ['Jane Doe', 'Li Wei']; agency names and titles after a comma dropped."""
    text = re.sub(r"^\s*(?:by|von|par|por|di|av)\s+", "", clean(byline), flags=re.I)
    text = re.split(r",\s*(?:dpa|AP|AFP|Reuters|PA|AAP|NTB|STT|ANSA|EFE)\b|,\s*(?:PA|AP|AFP)?\s*[A-Z][a-z]+ "
                    r"(?:Correspondent|Writer|Editor|Reporter)\b", text)[0]
    names = []
    for part in re.split(r"\s*(?:,\s*and\s+|\s+and\s+|,\s*|\s*&\s*|\s+und\s+|\s+et\s+)\s*", text):
        part = part.strip(" .")
        if not part or not part[0].isupper():
            continue
        if part.isupper():
            part = " ".join(w.capitalize() for w in part.split())
        names.append(part)
    return names


# --- dates --------------------------------------------------------------------------------------------------

_BASIC = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})?(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$")


def iso_utc(value: str | None) -> str | None:
    """ISO 8601 in its extended ("2026-03-04T03:10:55+01:00") or basic ("20260304T031055+0100") form as UTC
    ("2026-03-04T02:10:55Z"); None for anything else. A time without a zone is taken as UTC."""
    if not value:
        return None
    text = clean(value)
    m = _BASIC.match(text)
    if m:
        year, month, day, hour, minute, second, zone = m.groups()
        zone = zone or "Z"
        if zone != "Z" and ":" not in zone:
            zone = f"{zone[:3]}:{zone[3:]}"
        text = f"{year}-{month}-{day}T{hour or '00'}:{minute or '00'}:{second or '00'}{zone}"
    dt = parse_iso(text.replace(" ", "T", 1))
    if dt is None:
        return None
    return iso_z(dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc))


def epoch_seconds(iso: str | None) -> int:
    dt = parse_iso(iso)
    return int(dt.timestamp()) if dt is not None else 0


def to_int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def urgency(value: Any) -> int | None:
    """An IPTC urgency 1..9, or None."""
    n = to_int(value)
    return n if n is not None and 1 <= n <= 9 else None


# --- agencies -----------------------------------------------------------------------------------------------

# Names and codes agencies use for themselves, to the rule-pack id that cleans their copy.
_AGENCIES = {
    "reuters": "reuters", "thomson reuters": "reuters", "rtrs": "reuters",
    "ap": "ap", "associated press": "ap", "the associated press": "ap",
    "afp": "afp", "agence france-presse": "afp", "agence france presse": "afp",
    "dpa": "dpa", "deutsche presse-agentur": "dpa",
    "kyodo": "kyodo", "kyodo news": "kyodo",
    "anp": "anp", "algemeen nederlands persbureau": "anp",
    "ana-mpa": "ana-mpa", "ana": "ana-mpa", "amna": "ana-mpa", "\u03b1\u03c0\u03b5-\u03bc\u03c0\u03b5": "ana-mpa",
    "athens-macedonian news agency": "ana-mpa",
    "aap": "aap", "australian associated press": "aap",
    "pa": "pa", "pa media": "pa", "press association": "pa",
    "ntb": "ntb", "norsk telegrambyra": "ntb",
    "ansa": "ansa", "efe": "efe", "agencia efe": "efe",
    "stt": "stt", "ats": "ats-sda", "sda": "ats-sda", "keystone-sda": "ats-sda", "ats-sda": "ats-sda",
    "businessdesk": "businessdesk",
    "pr newswire": "prwire", "prnewswire": "prwire", "asianet": "prwire", "business wire": "prwire",
    "globe newswire": "prwire",
}
_HOST = re.compile(r"^(?:www\.)?([a-z0-9-]+)\.[a-z.]{2,}$")


def agency_id(*names: str | None) -> str | None:
    """The first of ``names`` (provider, copyright holder, domain...) that names a known agency."""
    for name in names:
        if not name:
            continue
        key = clean(name).lower().removeprefix("nprov:")
        if key in _AGENCIES:
            return _AGENCIES[key]
        m = _HOST.match(key)  # a provider's domain: "reuters.com", "ana-mpe.gr"
        if m:
            for part in reversed(m.group(1).split("-")):
                if part in _AGENCIES:
                    return _AGENCIES[part]
    return None
