"""What of a cleaned body takes part in the comparison: word tokens, their shingles, and the marks.

Why word shingles over the whole body: portals merge and split paragraphs, so
paragraph boundaries are ignored and the body is one token stream; word
shingles (not character ones) keep a changed quote mark, dash or spacing from
touching more than the words around it. Normalisation makes the edits portals
make invisible: Unicode NFKC, case folded, accents stripped (some portals drop
them), punctuation dropped, digit groups joined ("1,000" and "1000" are one
token, "0.6%" is "0.6"). Numbers are kept as tokens: they are what tells one
generated earnings story or results table from the next.

Marks are the tokens that tell look-alikes apart when the words around them
are shared: numbers, and capitalised words that do not start a sentence
(names), kept apart because each alone can be shared by two different
stories (one company's earnings in two quarters share the names; two
results tables may share many numbers). Two copies of one story carry the
same marks of both kinds; two stories from one template do not.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

# A number (digit groups and a decimal part joined) or a run of letters (with inner apostrophes).
_TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
_SENTENCE_END = frozenset(".!?:;\"\u201c\u201d\u2014\u2013(")
_POSSESSIVE = ("'s", "\u2019s")
_COMBINING_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")

DEFAULT_SHINGLE_WORDS = 4


def fold(text: str) -> str:
    """NFKC, case folded, combining marks (accents) removed."""
    if text.isascii():
        return text.lower()
    return _COMBINING_RE.sub("", unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold()))


@dataclass(frozen=True)
class Analysis:
    tokens: list[str]
    numbers: set[str]
    names: set[str]


def analyse(text: str) -> Analysis:
    """One pass over a body: its normalised tokens, its numbers and its names."""
    norm = unicodedata.normalize("NFKC", text) if not text.isascii() else text
    toks: list[str] = []
    numbers: set[str] = set()
    names: set[str] = set()
    prev_end = 0
    for m in _TOKEN_RE.finditer(norm):
        tok = m.group()
        if tok[0].isdigit():
            tok = _number(tok)
            numbers.add(tok)
        else:
            capital = tok[0].isupper()
            tok = fold(tok)
            if tok.endswith(_POSSESSIVE):
                tok = tok[:-2]
            if capital and prev_end:
                gap = norm[prev_end:m.start()].rstrip()
                # Line breaks do not start a sentence: portals rewrap.
                if not gap or gap[-1] not in _SENTENCE_END:
                    names.add(tok)
        prev_end = m.end()
        toks.append(tok)
    return Analysis(toks, numbers, names)


def tokens(text: str) -> list[str]:
    """Normalised word tokens of a body: paragraphs, punctuation and number formatting ignored."""
    return analyse(text).tokens


def shingles(toks: list[str], k: int = DEFAULT_SHINGLE_WORDS) -> set[bytes]:
    """The set of k-word shingles; a body shorter than k words is one shingle of itself."""
    if not toks:
        return set()
    if len(toks) <= k:
        return {" ".join(toks).encode("utf-8")}
    return {" ".join(toks[i:i + k]).encode("utf-8") for i in range(len(toks) - k + 1)}


def marks(text: str) -> tuple[set[str], set[str]]:
    """The numbers, and the capitalised words not at a sentence start (names), normalised like tokens."""
    a = analyse(text)
    return a.numbers, a.names


def hash32(values: Iterable[str]) -> list[int]:
    """Stable 32-bit hashes (CRC-32) of strings: the same in every process, unlike ``hash``."""
    return sorted({zlib.crc32(v.encode("utf-8")) for v in values})


def _number(tok: str) -> str:
    """'1,000' -> '1000', '4.97' stays, '6,41' (a decimal comma) -> '6.41'."""
    parts = re.split(r"[.,]", tok)
    if len(parts) == 1:
        return tok
    if all(len(p) == 3 for p in parts[1:]):
        return "".join(parts)  # thousands separators
    return "".join(parts[:-1]) + "." + parts[-1]
