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
numbers of the body with fewer of them be found in the other, and most of
the names likewise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from transforms.stories.signature import Signature


@dataclass(frozen=True)
class MatchRules:
    """Thresholds, tuned on the development part of the test set (tests/stories/data)."""

    jaccard: float = 0.5
    containment: float = 0.75
    min_contained: int = 40  # shingles the smaller body needs for containment alone to count
    marks: float = 0.7  # share of the smaller set of numbers (of names) found in the other
    min_marks: int = 4  # below this many numbers (names) the guard has nothing to say of them


DEFAULT_RULES = MatchRules()


@dataclass(frozen=True)
class Verdict:
    jaccard: float
    containment: float
    marks: float | None  # the lower of the two agreements; None when neither set is large enough
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


def agreement(a: np.ndarray, b: np.ndarray, min_marks: int) -> float | None:
    """The share of the smaller set (sorted unique hashes) found in the larger; None when it is too small."""
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    if len(small) < min_marks:
        return None
    return len(np.intersect1d(small, large, assume_unique=True)) / len(small)


def marks_agreement(a: Signature, b: Signature, min_marks: int) -> float | None:
    """The lower of the numbers' and the names' agreement, of those large enough to judge."""
    found = [m for m in (agreement(a.numbers, b.numbers, min_marks), agreement(a.names, b.names, min_marks))
             if m is not None]
    return min(found) if found else None


def compare(a: Signature, b: Signature, rules: MatchRules = DEFAULT_RULES) -> Verdict:
    j = jaccard(a, b)
    c = containment(j, a, b)
    m = marks_agreement(a, b, rules.min_marks)
    similar = j >= rules.jaccard or (c >= rules.containment and min(a.size, b.size) >= rules.min_contained)
    return Verdict(j, c, m, similar and (m is None or m >= rules.marks))
