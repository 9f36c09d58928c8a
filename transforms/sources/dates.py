"""Dates as feeds write them, to UTC datetimes and back to ISO 8601 text."""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

# Month and weekday names of the languages wire feeds come in, for RFC 822 dates feedparser cannot read
# ("Seg, 24 Set 2018 19:42:40 -0300").
_MONTHS = {
    "jan": ["janv", "ene", "gen", "jän", "janeiro", "enero"],
    "feb": ["fév", "fev", "févr", "fevr", "febr", "feb", "fevereiro", "febrero"],
    "mar": ["mars", "mär", "märz", "marz", "março", "marzo"],
    "apr": ["avr", "abr", "avril", "abril", "aprile"],
    "may": ["mai", "mayo", "maio", "mag", "maggio"],
    "jun": ["juin", "jun", "junho", "junio", "giu", "giugno"],
    "jul": ["juil", "jul", "julho", "julio", "lug", "luglio"],
    "aug": ["août", "aout", "ago", "agosto", "aug"],
    "sep": ["sept", "set", "setembro", "septiembre", "settembre"],
    "oct": ["oct", "out", "okt", "outubro", "octubre", "ott", "ottobre"],
    "nov": ["nov", "novembro", "noviembre", "novembre"],
    "dec": ["déc", "dez", "dic", "dezembro", "diciembre", "dicembre", "dezember"],
}
_MONTH_ALIASES = {alias: en for en, aliases in _MONTHS.items() for alias in aliases}
_RFC822ISH = re.compile(r"^\s*(?:[^\d\s,]+,?\s+)?(\d{1,2})\s+([^\d\s.]+)\.?\s+(\d{4})\s+(\d{1,2}:\d{2}(?::\d{2})?)"
                        r"\s*([+-]\d{4}|[A-Z]{1,4})?\s*$")


def fallback_date(raw: Any) -> datetime | None:
    """An RFC 822 date with month and weekday names in another language; None when it is not one."""
    if not isinstance(raw, str):
        return None
    m = _RFC822ISH.match(raw)
    if not m:
        return None
    day, month, year, clock, zone = m.groups()
    month_en = _MONTH_ALIASES.get(month.lower()) or (month.lower()[:3] if month.lower()[:3] in _MONTHS else None)
    if month_en is None:
        return None
    try:
        return parsedate_to_datetime(f"{day} {month_en.title()} {year} {clock} {zone or '+0000'}").astimezone(
            timezone.utc)
    except (TypeError, ValueError, IndexError):
        return None


def from_struct_time(parsed: Any) -> datetime | None:
    """feedparser's struct_time is already UTC."""
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc)
    except (OverflowError, ValueError, OSError, TypeError):
        return None


def iso_z(dt: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``; None stays None."""
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if dt is not None else None


def parse_iso(value: str | None) -> datetime | None:
    """An ISO 8601 text written by ``iso_z`` (or any offset) as a datetime; None when absent or unreadable."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
