"""The dateline elements of wire formats as the document's ``dateline`` field: {"location", "date_text"}.

Formats that give the dateline as its own element give it as free text: "TOKYO, March 4 (Reuters)",
"CRESTLINE, Ohio", "ATHENS, March 4", "Dublin (AFP)", "2026-03-04 20:13:08 GMT". The agency credit is
dropped, a trailing month-day or day-month date becomes ``date_text``, and a bare timestamp is no place.
"""

from __future__ import annotations

import re

from transforms.sources.formats.base import clean

_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|"
          r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_CREDIT = re.compile(r"\s*\((?:[A-Z][\w.\- ]{0,30})\)\.?\s*$")
_DATE = re.compile(rf"^(?:{_MONTH} \d{{1,2}}(?:, \d{{4}})?|\d{{1,2}} {_MONTH}(?: \d{{4}})?)$", re.I)
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}|^\d{1,2}/\d{1,2}/\d{2,4}")


def parse_dateline(raw: str | None) -> dict[str, str | None] | None:
    text = clean(raw)
    text = _CREDIT.sub("", text).strip(" ,-\u2013\u2014")
    if not text or _TIMESTAMP.match(text):
        return None
    parts = [p.strip() for p in text.split(",")]
    date = None
    if len(parts) > 1 and _DATE.match(parts[-1]):
        date = parts.pop()
    elif len(parts) > 2 and _DATE.match(", ".join(parts[-2:])):
        date = ", ".join(parts[-2:])
        parts = parts[:-2]
    location = ", ".join(parts) or None
    return {"location": location, "date_text": date}
