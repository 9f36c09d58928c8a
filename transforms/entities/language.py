"""Language detection for the enrich stage.

py3langid (a numpy port of langid.py) was chosen by measurement over lingua. On 248 real feed
items (title and summary; English, French, Portuguese, Urdu, Chinese, German) both named every
language right, but py3langid took about 1 ms per item and 76 MB resident (0.35 ms for a
1,600-character article), lingua in low-accuracy mode about 5 ms and 87 MB, and lingua in
high-accuracy mode 1.26 GB, more than the whole per-worker budget.
"""

from __future__ import annotations

import functools
import re

# The start of an article decides its language; more only costs time.
SAMPLE_CHARS = 1000
# Below this many letters the guess is noise: fall back to the feed's hint.
MIN_LETTERS = 12
# Under this confidence the guess is noise too (short headlines: "Floods hit Dhaka" -> so, 0.09):
# the hint decides, or the language stays unknown. Real feed items scored 0.2 or more, right or not.
MIN_CONFIDENCE = 0.2
# A text this sure of its language overrules the feed's.
SURE = 0.9
# A modelled language this close to an unsure guess (its share of the guess's probability) is taken instead,
CLOSE = 0.2
# ... when the text is long enough to be a table rather than a headline.
MIN_TABLE_LETTERS = 60

_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_COMMON_WORD = re.compile(r"(?<![\w'\u2019-])[^\W\d_A-Z]{2,}(?![\w'\u2019-])")


@functools.lru_cache(maxsize=1)
def _identifier():
    """One identifier per process: loading its model (xz-compressed) takes about 0.9 CPU-s here."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def normalise_code(code: str | None) -> str | None:
    """'en-US' / 'EN_gb' -> 'en'; empty -> None."""
    if not code:
        return None
    return re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0] or None


def detect_language(text: str, hint: str | None = None, modelled: tuple[str, ...] = ()) -> tuple[str | None, float]:
    """(ISO 639-1 code, confidence) for ``text``.

    ``hint`` is the feed's language: it decides when the text is too short to tell, and also whenever the text
    is not sure of another language (a results table in an English feed). Without a hint, a long text unsure
    of a language without a model (``modelled`` lists those with one), as tables of names and numbers are
    (Pidgin, Javanese or Dutch at 0.3 to 0.7), takes the language of its lower-case words when that has a
    model, else the modelled language that comes close.
    """
    sample = text[:SAMPLE_CHARS]
    hint = normalise_code(hint)
    if len(_LETTER.findall(sample[:400])) < MIN_LETTERS:
        return hint, 0.0
    code, confidence = _identifier().classify(sample)
    if hint and code != hint and confidence < SURE:
        return hint, confidence
    unsure = code not in modelled and confidence < SURE or confidence < MIN_CONFIDENCE
    if modelled and unsure and len(_LETTER.findall(sample)) >= MIN_TABLE_LETTERS:
        # A table's names say nothing of its language; its few common words do ("league standings").
        words = " ".join(_COMMON_WORD.findall(sample))
        if len(words) >= MIN_LETTERS and (common := _identifier().classify(words)[0]) in modelled:
            return common, confidence
        ranked = dict(_identifier().rank(sample))
        best = max(modelled, key=lambda c: ranked.get(c, 0.0))
        if ranked.get(best, 0.0) >= CLOSE * confidence:
            return best, ranked[best]
    if confidence < MIN_CONFIDENCE:
        return hint, confidence
    return code, confidence
