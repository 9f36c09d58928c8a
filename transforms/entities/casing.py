"""Text as the model reads it: shouted lines and datelines recased, section slugs lowered, lengths unchanged.

The small English model finds almost nothing in capitals ("SOCCER - BARCELONA SWEEP PAST SEVILLA" gives no
entity, "BARCELONA, Oct 19" no place) and takes a section slug for part of a name ("Cricket-Surrey"). So the
model reads a copy in which a line in capitals is written the way the article writes its words elsewhere
(a word the article capitalises, or a name the alias table or a gazetteer knows, keeps a capital; other words go
to lower case), a dateline's capitals become title case, and a headline's section slug is blanked out. Every change
keeps each character's position, so the model's offsets are offsets into the original text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)?")
_LETTERS = re.compile(r"[^\W\d_]")
_LOWER_RUN = re.compile(r"[^\W\d_A-Z]{3}")
_SENTENCE_END = ".!?:\"\u201c(-\u2013\u2014"
# A dateline opens a body line: place words in capitals, then a comma, a parenthesis, a date or a dash.
_DATELINE = re.compile(
    r"^(?P<place>[A-Z][A-Z.'\u2019\-]*(?:[ /][A-Z][A-Z.'\u2019\-]*){0,3})"
    r"(?=\s*,|\s*\(|\s+\d|\s+(?:--|-|\u2014|\u2013)\s)"
)
# A headline slug: one or two capitalised words glued to the headline by a hyphen ("Soccer-Spanish", "CRICKET-SURREY").
_SLUG = re.compile(r"^(?P<slug>[A-Z][A-Za-z]{3,}(?: [A-Za-z]{3,})?)-(?=[A-Z])")
# A dateline is on one of the body's first lines.
DATELINE_LINES = 3
# A shouted line has at least this many letters, hardly any of them lower case ("McDONALD").
MIN_SHOUT_LETTERS = 3
SHOUT_LOWER_SHARE = 0.05


def _same_length(original: str, changed: str) -> str:
    """``changed`` if it keeps every position (casing a few letters changes length: 'ß', 'İ'), else ``original``."""
    return changed if len(changed) == len(original) else original


def is_shouted(line: str) -> bool:
    """A line written in capitals: a headline, a section line ("CRICKET", "WORLD CUP QUALIFIER"); one word in
    mixed case ("PORT-AU-PRINCE, June 25 (AFP)") makes it a line that merely starts in capitals."""
    if _LOWER_RUN.search(line):  # most lines: three lower-case letters in a row is running text
        return False
    letters = _LETTERS.findall(line)
    if len(letters) < MIN_SHOUT_LETTERS:
        return False
    return sum(1 for c in letters if c.islower()) <= len(letters) * SHOUT_LOWER_SHARE


def spellings(texts: Iterable[str]) -> dict[str, str]:
    """Capitalised words of the article's mixed-case lines, by their lower-case form: its own spelling of names."""
    seen: dict[str, str] = {}
    for text in texts:
        for line in text.splitlines():
            if is_shouted(line):
                continue
            for match in _WORD.finditer(line):
                word = match.group(0)
                before = line[: match.start()].rstrip()
                # a sentence's first word is capitalised anyway: it says nothing about the word
                if word[0].isupper() and before and before[-1] not in _SENTENCE_END:
                    seen.setdefault(word.casefold(), word)
    return seen


def recase_line(line: str, known: dict[str, str], spelling: Callable[[str], str | None]) -> str:
    """A shouted line as running text: the article's spellings, then known names', else lower case; the line's
    first word capitalised."""
    out = list(line)
    first = True
    for match in _WORD.finditer(line):
        word = match.group(0)
        key = word.casefold()
        if key in known:
            new = known[key]
        elif (name := spelling(word)) is not None:
            new = name
        elif first:
            new = word.capitalize()
        else:
            new = word.lower()
        new = _same_length(word, new)
        out[match.start() : match.end()] = new
        first = False
    return "".join(out)


def recase_dateline(line: str) -> tuple[str, tuple[int, int] | None]:
    """The line with its dateline place in title case, and the place's (start, end); the line as is without one."""
    match = _DATELINE.match(line)
    if not match or not any(c.isalpha() for c in match.group("place")):
        return line, None
    place = match.group("place")
    titled = re.sub(r"[^\W\d_]+", lambda m: m.group(0).capitalize(), place.lower())
    return line[: match.start()] + _same_length(place, titled) + line[match.end() :], (match.start(), match.end())


def blank_slug(title: str, spelling: Callable[[str], str | None]) -> str:
    """'Soccer-Spanish first division results' -> '       Spanish first division results': the slug names a
    section, never an entity, and glued to the headline it becomes part of one. A name before the hyphen is no
    slug ('China-Kazakhstan trade')."""
    match = _SLUG.match(title)
    if not match or spelling(match.group("slug")) is not None:
        return title
    return " " * match.end() + title[match.end() :]


def prepare(title: str, body: str, spelling: Callable[[str], str | None]) -> tuple[str, str, list[tuple[int, int]]]:
    """(title, body) as the model should read them, and the body's dateline place spans.

    ``spelling`` gives the alias table's or a gazetteer's spelling of a one-word name ("JAPAN" -> "Japan",
    "nato" -> "NATO"), None for other words.
    """
    known: dict[str, str] | None = None  # read only for an article with a shouted line
    datelines: list[tuple[int, int]] = []
    lines = body.split("\n")
    offset = 0
    for index, line in enumerate(lines):
        if is_shouted(line):
            known = spellings((title, body)) if known is None else known
            lines[index] = recase_line(line, known, spelling)
        elif index < DATELINE_LINES:  # datelines open a story, not its tables
            lines[index], place = recase_dateline(line)
            if place is not None:
                datelines.append((offset + place[0], offset + place[1]))
        offset += len(line) + 1
    if is_shouted(title):
        title = recase_line(title, spellings((title, body)) if known is None else known, spelling)
    return blank_slug(title, spelling), "\n".join(lines), datelines
