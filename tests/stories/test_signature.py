"""MinHash signatures and band keys."""

import numpy as np
import pytest

from transforms.stories import Hasher, Signature
from transforms.stories.match import jaccard
from transforms.stories.text import shingles, tokens

BODY = ("The Senate on Friday approved a short-term spending bill that keeps the federal government open "
        "through Dec. 13, sending the measure to the president's desk less than five hours before funding "
        "was set to lapse. The 71-26 vote came after days of negotiations.")


def test_signature_is_the_same_in_every_hasher_and_survives_storage():
    a, b = Hasher().signature(BODY), Hasher().signature(BODY)
    assert np.array_equal(a.values, b.values) and a.size == b.size and np.array_equal(a.numbers, b.numbers)
    back = Signature.decode(a.encode())
    assert np.array_equal(back.values, a.values) and np.array_equal(back.names, a.names) and back.size == a.size
    assert a.values.dtype == np.uint32 and len(a.values) == 128


def test_estimate_follows_the_exact_jaccard():
    other = BODY.replace("Friday", "Thursday").replace("71-26", "70-27") + " The House passed it on Wednesday."
    ha, hb = shingles(tokens(BODY)), shingles(tokens(other))
    exact = len(ha & hb) / len(ha | hb)
    h = Hasher(num_perm=256)
    assert abs(jaccard(h.signature(BODY), h.signature(other)) - exact) < 0.12


def test_band_keys_are_shared_by_copies_and_not_by_strangers():
    h = Hasher()
    copy = BODY.replace("\n\n", " ") + "\n\nEnditem"
    stranger = "Oil prices rose on Tuesday as tensions in the Middle East kept supply risks in focus, " \
               "offsetting concerns about weaker demand in China and a stronger dollar."
    keys = set(h.band_keys(h.signature(BODY)))
    assert len(keys) == 42 and all(len(k) == 18 for k in keys)
    assert keys & set(h.band_keys(h.signature(copy)))
    assert not keys & set(h.band_keys(h.signature(stranger)))


def test_empty_body_has_no_keys():
    h = Hasher()
    sig = h.signature("")
    assert sig.empty and h.band_keys(sig) == []


def test_bands_must_fit_the_signature():
    with pytest.raises(ValueError, match="need 150 values"):
        Hasher(num_perm=128, bands=50, rows=3)
