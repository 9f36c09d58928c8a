"""IPTC subject codes as wire items give them, in one shape: {"code", "name", "scheme"}.

Agencies write the same code many ways ("subj:04000000", "04000000" with Scheme="IptcSubjectCodes",
"http://cv.iptc.org/newscodes/subjectcode/04000000", NITF's tobject.subject.refnum). All of them become
scheme "subj" and the bare eight digits; a code the item names keeps the item's name, one it does not is
named from configs/iptc-subjects.yaml. Other vocabularies (IPTC Media Topics, an agency's own) keep their
scheme and code as given.
"""

from __future__ import annotations

import re
from functools import lru_cache

import yaml

from transforms.resources import config_path
from transforms.sources.formats.base import clean

_SUBJ_URI = re.compile(r"^(?:https?://cv\.iptc\.org/newscodes/subjectcode/|subj:|iptc:)?(\d{8})$", re.I)
_MEDTOP_URI = re.compile(r"^(?:https?://cv\.iptc\.org/newscodes/mediatopic/|medtop:)(\d{8})$", re.I)
_SUBJ_SCHEMES = {"subj", "iptcsubjectcodes", "iptc", "subjectcode", "http://cv.iptc.org/newscodes/subjectcode/"}


@lru_cache(maxsize=1)
def subject_names() -> dict[str, str]:
    data = yaml.safe_load(config_path("iptc-subjects.yaml").read_text(encoding="utf-8")) or {}
    return {str(code): str(name) for code, name in (data.get("subjects") or {}).items()}


def subject(code: str | None, name: str | None = None, scheme: str | None = None) -> dict[str, str | None] | None:
    """One subject in the common shape; None when there is neither a code nor a name."""
    code, name, scheme = clean(code), clean(name) or None, clean(scheme).lower()
    if not code and not name:
        return None
    m = _SUBJ_URI.match(code)
    if m and (not scheme or scheme in _SUBJ_SCHEMES or not code.isdigit()):
        digits = m.group(1)
        return {"code": digits, "name": name or subject_names().get(digits), "scheme": "subj"}
    m = _MEDTOP_URI.match(code)
    if m:
        return {"code": m.group(1), "name": name, "scheme": "medtop"}
    if ":" in code and not code.startswith("http"):
        prefix, _, rest = code.partition(":")
        return {"code": rest or None, "name": name, "scheme": scheme or prefix}
    return {"code": code or None, "name": name, "scheme": scheme or None}


def unique(subjects: list[dict[str, str | None] | None]) -> list[dict[str, str | None]]:
    """Subjects without Nones and repeats (same scheme and code), first one kept."""
    seen: set[tuple[str | None, str | None, str | None]] = set()
    out = []
    for s in subjects:
        if not s:
            continue
        key = (s.get("scheme"), s.get("code"), None if s.get("code") else s.get("name"))
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out
