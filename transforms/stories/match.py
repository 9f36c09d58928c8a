"""Is a candidate a copy? Estimated Jaccard, estimated containment, and the marks guard.

Why three measures: the estimated Jaccard similarity of the shingle sets
catches copies with small edits (a footer, a headline, merged paragraphs). A
portal that cuts the last paragraphs leaves a body contained in the original,
with a Jaccard similarity that falls with every paragraph cut, so the
containment of the smaller body in the larger one, estimated from the
Jaccard value and the two set sizes, counts too, for bodies long enough that
being contained means something. Neither tells apart two stories written from
one template (generated earnings stories, results, weather tables), whose
words are largely the same: the marks guard does, by asking that most of the
numbers and names of the body with fewer of them be found in the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from transforms.stories.signature import Signature


@dataclass(frozen=True)
class MatchRules:
    """Thresholds, tuned on the development part of the test set (tests/stories/data)."""

    jaccard: float = 0.5
    containment: float = 0.8
    min_contained: int = 40  # shingles the smaller body needs for containment alone to count
    marks: float = 0.7  # share of the smaller mark set found in the other
    min_marks: int = 4  # below this many marks the guard has nothing to say


@dataclass(frozen=True)
class Verdict:
    jaccard: float
    containment: float
    marks: float | None  # None when either body has too few marks to judge
    copy: bool


def jaccard(a: Signature, b: Signature) -> float:
    """The share of equal MinHash values: an unbiased estimate of the Jaccard similarity."""
    if a.empty or b.empty or len(a.values) != len(b.values):
        return 0.0
    return float(np.count_nonzero(a.values == b.values)) / len(a.values)


def containment(j: float, a: Signature, b: Signature) -> float:
    """|A∩B| / min(|A|, |B|), from |A∩B| = J (|A| + |B|) / (1 + J)."""
    small = min(a.size, b.size)
    if small == 0 or j <= 0:
        return 0.0
    return min(1.0, j * (a.size + b.size) / (1.0 + j) / small)


def marks_agreement(a: Signature, b: Signature, min_marks: int) -> float | None:
    small, large = sorted((set(a.marks), set(b.marks)), key=len)
    if len(small) < min_marks:
        return None
    return len(small & large) / len(small)


def compare(a: Signature, b: Signature, rules: MatchRules = MatchRules()) -> Verdict:
    j = jaccard(a, b)
    c = containment(j, a, b)
    m = marks_agreement(a, b, rules.min_marks)
    similar = j >= rules.jaccard or (c >= rules.containment and min(a.size, b.size) >= rules.min_contained)
    return Verdict(j, c, m, similar and (m is None or m >= rules.marks))
