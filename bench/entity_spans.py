"""The span-labelled wire paragraphs (tests/data/entities/spans/) and entity-level exact-match scoring.

Items mark entities inline as ``{surface|TYPE}``; ``load_items`` returns the plain title and text with the
character spans of each entity. ``score`` counts a predicted mention as right only when its start, end and
type all equal a label's; spans labelled ``X`` are left out of scoring in both directions. The CoNLL view maps
the product's types onto CoNLL-2003's four (PERSON->PER, ORG->ORG, GPE/LOC/FAC->LOC, NORP/EVENT->MISC), so that
figures can be set beside published ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

SPANS_DIR = Path(__file__).resolve().parent.parent / "tests" / "data" / "entities" / "spans"
TYPES = ("PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT")
IGNORED = "X"
CONLL = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC", "NORP": "MISC", "EVENT": "MISC"}
PARTS = ("dev", "heldout")

_MARK = re.compile(r"\{([^{}|]+)\|([A-Z]+)\}")


@dataclass(frozen=True)
class Span:
    """One entity: where it is (``title`` or ``text``), its characters and type."""

    field: str
    start: int
    end: int
    type: str
    text: str


@dataclass
class Item:
    id: str
    part: str
    language: str
    title: str
    text: str
    spans: list[Span]
    source: str = ""


def unmark(marked: str, where: str) -> tuple[str, list[Span]]:
    """Plain text and the spans of ``{surface|TYPE}`` marks in ``marked``."""
    plain: list[str] = []
    spans: list[Span] = []
    position = last = 0
    for match in _MARK.finditer(marked):
        before = marked[last : match.start()]
        plain.append(before)
        position += len(before)
        surface, type_ = match.group(1), match.group(2)
        if type_ not in (*TYPES, IGNORED):
            raise ValueError(f"unknown type {type_!r} for {surface!r}")
        if surface != surface.strip():
            raise ValueError(f"span {surface!r} has edge spaces")
        spans.append(Span(where, position, position + len(surface), type_, surface))
        plain.append(surface)
        position += len(surface)
        last = match.end()
    plain.append(marked[last:])
    text = "".join(plain)
    if "{" in text or "}" in text:
        raise ValueError(f"unbalanced mark in {marked[:80]!r}")
    return text, spans


def load_items(parts: Iterable[str] = PARTS, directory: Path = SPANS_DIR) -> list[Item]:
    """Items of the given parts from every YAML file in ``directory``, in file order."""
    wanted = set(parts)
    items: list[Item] = []
    for path in sorted(directory.glob("*.yaml")):
        for raw in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            if raw["part"] not in PARTS:
                raise ValueError(f"{path.name} {raw['id']}: part must be one of {PARTS}")
            if raw["part"] not in wanted:
                continue
            try:
                title, title_spans = unmark(raw.get("title") or "", "title")
                text, text_spans = unmark(raw["text"], "text")
            except ValueError as e:
                raise ValueError(f"{path.name} {raw['id']}: {e}") from None
            items.append(
                Item(raw["id"], raw["part"], raw.get("language", "en"), title, text, title_spans + text_spans,
                     path.stem)
            )
    return items


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Counts) -> None:
        self.tp, self.fp, self.fn = self.tp + other.tp, self.fp + other.fp, self.fn + other.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Score:
    """Micro counts overall and per type; ``errors`` lists (item id, kind, span) for reading."""

    overall: Counts = field(default_factory=Counts)
    by_type: dict[str, Counts] = field(default_factory=dict)
    errors: list[tuple[str, str, Span]] = field(default_factory=list)

    def _count(self, type_: str, kind: str) -> None:
        for counts in (self.overall, self.by_type.setdefault(type_, Counts())):
            setattr(counts, kind, getattr(counts, kind) + 1)


def _overlaps(span: Span, ignored: list[Span]) -> bool:
    return any(span.field == x.field and span.start < x.end and x.start < span.end for x in ignored)


def score(items: list[Item], predictions: list[list[Span]], mapping: dict[str, str] | None = None) -> Score:
    """Exact span-and-type matches of ``predictions`` (one list per item) against the labels."""
    result = Score()

    def key(span: Span) -> tuple[str, int, int, str]:
        type_ = mapping.get(span.type, span.type) if mapping else span.type
        return span.field, span.start, span.end, type_

    for item, predicted in zip(items, predictions, strict=True):
        ignored = [s for s in item.spans if s.type == IGNORED]
        gold = {key(s): s for s in item.spans if s.type != IGNORED}
        guess = {key(s): s for s in predicted if s.type in TYPES and not _overlaps(s, ignored)}
        for k in gold.keys() & guess.keys():
            result._count(k[3], "tp")
        for k in guess.keys() - gold.keys():
            result._count(k[3], "fp")
            result.errors.append((item.id, "fp", guess[k]))
        for k in gold.keys() - guess.keys():
            result._count(k[3], "fn")
            result.errors.append((item.id, "fn", gold[k]))
    return result
