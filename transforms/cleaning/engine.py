"""The rule engine: one text's paragraphs, the rules tried on them, and the audit of what went.

Every candidate removal passes a safety check: it may take at most ``max_share`` of the text, an
``end`` match must begin at a paragraph or sentence boundary, and a ``start`` match must not split a
word. A refused candidate stays in the text and is listed as refused.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from transforms.cleaning.rules import DatelineRule, Pack, Rule

log = logging.getLogger(__name__)

# Removals up to this many characters pass the share check even on a short summary,
# where a footer alone can be half the text.
DEFAULT_SHARE_FLOOR = 150
# Characters after which a sentence (and so a removable trailer) may start.
_SENTENCE_END = frozenset(".!?\"'\u201d\u2019)]:;\u2026>|*")
_SENTENCE_CLOSE = (".", "!", "?", '."', ".\u201d", '?"', "?\u201d", '!"', "!\u201d")
# End rules look only at the last characters of a paragraph: trailers are short, and an
# end-anchored search over a huge paragraph could otherwise cost quadratic time.
END_WINDOW = 1200
# After an end marker, at most this many lines of at most this length are taken as furniture.
MAX_TAIL_LINES = 6
MAX_TAIL_LINE_CHARS = 160
HEADLINE_RULE = "headline"  # not a pack rule: the body's first paragraph repeating the title


@dataclass
class Removal:
    rule: str
    text: str


@dataclass
class CleanResult:
    text: str  # paragraphs separated by "\n\n"
    dateline: dict[str, str | None] | None  # {"location": ..., "date_text": ...}
    agency: str | None
    authors: list[str] = field(default_factory=list)
    removed: list[Removal] = field(default_factory=list)
    refused: list[Removal] = field(default_factory=list)  # matched, but refused by the safety check

    def to_json(self) -> dict[str, Any]:
        """The `wirenews clean` output."""
        return {
            "text": self.text,
            "dateline": self.dateline,
            "agency": self.agency,
            "authors": list(self.authors),
            "removed": [{"rule": r.rule, "text": r.text} for r in self.removed],
        }

    @property
    def removed_chars(self) -> int:
        return sum(len(r.text) for r in self.removed)


_NAME_SPLIT_RE = re.compile(r"\s*(?:,\s*and\s+|,\s*|\s+and\s+|\s*;\s*|\s*&\s*)")
_NAME_TAIL_RE = re.compile(r"\s+(?:in|from|at)\s+[A-Z].*$")


def split_names(text: str) -> list[str]:
    """'JANE DOE and Li Wei in Beijing' -> ['Jane Doe', 'Li Wei']."""
    names = []
    for part in _NAME_SPLIT_RE.split(text.strip().rstrip(".")):
        part = _NAME_TAIL_RE.sub("", part).strip(" .,")
        if not part or not part[0].isupper():
            continue
        if part.isupper():
            part = " ".join(w.capitalize() if len(w) > 2 or "." not in w else w for w in part.split())
        names.append(part)
    return names


class TextRun:
    """The mutable state of cleaning one text: its paragraphs and the audit so far."""

    def __init__(self, paragraphs: list[str], default_share: float, floor: int = DEFAULT_SHARE_FLOOR) -> None:
        self.paras = paragraphs
        self.total = max(1, len("\n\n".join(paragraphs)))
        self.default_share = default_share
        self.floor = floor
        self.removed: list[Removal] = []
        self.refused: list[Removal] = []
        self.authors: list[str] = []

    def _share_ok(self, rule_name: str, share: float | None, text: str) -> bool:
        limit = self.default_share if share is None else share
        if len(text) > max(limit * self.total, self.floor):
            self._refuse(rule_name, text, f"would remove {len(text)} of {self.total} chars (limit {limit:.0%})")
            return False
        return True

    def _refuse(self, rule_name: str, text: str, why: str) -> None:
        self.refused.append(Removal(rule_name, text))
        log.info("refused %s: %s: %r", rule_name, why, text[:80])

    def _take_authors(self, match: re.Match[str]) -> None:
        if "authors" in match.re.groupindex and match.group("authors"):
            for name in split_names(match.group("authors")):
                if name not in self.authors:
                    self.authors.append(name)

    def try_end(self, rule: Rule, share: float | None) -> bool:
        if not self.paras:
            return False
        para = self.paras[-1]
        m = rule.regex.search(para, max(0, len(para) - END_WINDOW))
        if not m:
            return False
        start = m.start()
        before = para[:start].rstrip()
        cut = para[start:]
        if before and before[-1] not in _SENTENCE_END:
            self._refuse(rule.name, cut, "would cut into the middle of a paragraph")
            return False
        if not self._share_ok(rule.name, share, cut):
            return False
        self._take_authors(m)
        self.removed.append(Removal(rule.name, cut.strip()))
        if before:
            self.paras[-1] = before
        else:
            self.paras.pop()
        return True

    def try_start(self, rule: Rule | DatelineRule, share: float | None) -> re.Match[str] | None:
        if not self.paras:
            return None
        para = self.paras[0]
        m = rule.regex.match(para)
        if not m or m.end() == 0:
            return None
        end = m.end()
        cut = para[:end]
        if end < len(para) and para[end - 1].isalnum() and para[end].isalnum():
            self._refuse(rule.name, cut, "would split a word")
            return None
        if not self._share_ok(rule.name, share, cut):
            return None
        self._take_authors(m)
        self.removed.append(Removal(rule.name, cut.strip()))
        rest = para[end:].strip()
        if rest:
            self.paras[0] = rest
        else:
            self.paras.pop(0)
        return m

    def try_marker(self, rule: Rule, share: float | None) -> bool:
        """An end marker (`cuts_tail`) with a few short lines after it: the marker ends the story, so they go too."""
        for i in range(len(self.paras) - 2, max(-1, len(self.paras) - 2 - MAX_TAIL_LINES), -1):
            tail = self.paras[i + 1 :]
            # Furniture is short and is not a sentence; a short closing sentence of the story is kept.
            if any(len(p) > MAX_TAIL_LINE_CHARS or p.endswith(_SENTENCE_CLOSE) for p in tail):
                return False
            m = rule.regex.search(self.paras[i], max(0, len(self.paras[i]) - END_WINDOW))
            if not m:
                continue
            before = self.paras[i][: m.start()].rstrip()
            if before and before[-1] not in _SENTENCE_END:
                continue
            cut = "\n\n".join([self.paras[i][m.start() :].strip(), *tail])
            if not self._share_ok(rule.name, share, cut):
                return False
            self.removed.append(Removal(rule.name, cut))
            self.paras[i:] = [before] if before else []
            return True
        return False

    def try_headline(self, heading: str) -> bool:
        """A first paragraph that only repeats the headline (NITF and some portals print it once or twice).

        Without a title, a short first line said twice (NITF's hl1 and hl2), in one paragraph or two,
        is taken for the headline: reporting never reads that way.
        """
        if not self.paras:
            return False
        para = self.paras[0]
        if len(self.paras) > 1 and para == self.paras[1] and 10 <= len(para) <= 200:
            self.removed.append(Removal(HEADLINE_RULE, f"{para}\n\n{para}"))
            del self.paras[:2]
            return True
        h = len(para) // 2
        doubled = 21 <= len(para) <= 400 and para[h] == " " and para[:h] == para[h + 1 :]
        repeats_title = bool(heading) and para.casefold() in (heading.casefold(), f"{heading} {heading}".casefold())
        if not (doubled or repeats_title):
            return False
        self.removed.append(Removal(HEADLINE_RULE, para))
        self.paras.pop(0)
        return True

    def try_lines(self, rule: Rule, share: float | None) -> bool:
        fired = False
        kept = []
        for para in self.paras:
            m = rule.regex.fullmatch(para)
            if m and self._share_ok(rule.name, share, para):
                self._take_authors(m)
                self.removed.append(Removal(rule.name, para))
                fired = True
            else:
                kept.append(para)
        self.paras = kept
        return fired


def rule_share(rule: Rule, pack: Pack) -> float | None:
    return rule.max_share if rule.max_share is not None else pack.max_share
