"""Entity-level exact span and type on the span-labelled wire paragraphs (tests/data/entities/spans), development
part only: the held-out part is for measuring (bench/eval_entities.py), never for a test to tune against."""

from __future__ import annotations

import pytest

from bench.entity_spans import PARTS, TYPES, Span, load_items, score, unmark
from transforms.entities import Tagger

# Measured on the development part (English): P 0.912, R 0.886 (raw en_core_web_sm: P 0.661, R 0.567).
PRECISION_FLOOR, RECALL_FLOOR = 0.88, 0.85


def test_both_parts_are_well_formed_and_big_enough():
    items = load_items()
    assert len({item.id for item in items}) == len(items)
    for part in PARTS:
        labelled = [s for item in items if item.part == part for s in item.spans if s.type in TYPES]
        assert len(labelled) >= 700, part
    for item in items:
        for span in item.spans:
            assert getattr(item, span.field)[span.start : span.end] == span.text, item.id


def test_unmark_gives_exact_spans():
    text, spans = unmark("{Surrey|ORG} beat {Kent|ORG} at The {Oval|FAC}.", "text")
    assert text == "Surrey beat Kent at The Oval."
    assert [(s.start, s.end, s.type) for s in spans] == [(0, 6, "ORG"), (12, 16, "ORG"), (24, 28, "FAC")]
    with pytest.raises(ValueError, match="unknown type"):
        unmark("{Surrey|TEAM}", "text")


def test_exact_match_scoring():
    items = load_items(["dev"])[:1]
    gold = [s for s in items[0].spans if s.type in TYPES]
    assert score(items, [gold]).overall.f1 == 1.0
    shifted = [Span(s.field, s.start, s.end + 1, s.type, s.text) for s in gold]
    assert score(items, [shifted]).overall.tp == 0


def test_precision_and_recall_floor_on_the_development_part():
    items = [item for item in load_items(["dev"]) if item.language == "en"]
    found = Tagger.load().tag_mentions([(i.title, i.text) for i in items], hints=[i.language for i in items])
    predictions = [[Span(m["field"], m["start"], m["end"], m["type"], m["text"]) for m in ms] for ms in found]
    result = score(items, predictions)
    assert result.overall.precision >= PRECISION_FLOOR, f"precision {result.overall.precision:.3f}"
    assert result.overall.recall >= RECALL_FLOOR, f"recall {result.overall.recall:.3f}"
