"""The copy check: Jaccard, containment and the marks guard."""

from transforms.stories import Hasher, MatchRules, compare

LEAD = ("Oil prices rose on Tuesday as tensions in the Middle East kept supply risks in focus, offsetting "
        "concerns about weaker demand in China and a stronger dollar.")
PARAS = [LEAD,
         "Brent crude futures were up 48 cents, or 0.6%, at $78.47 a barrel by 0735 GMT. U.S. West Texas "
         "Intermediate crude futures rose 51 cents, or 0.7%, to $73.29.",
         "Both benchmarks fell more than 7% last week on hopes for a ceasefire deal, but attacks on shipping "
         "in the Red Sea have continued to disrupt trade routes.",
         "\"The market remains caught between geopolitical risk on one side and a soft demand outlook on the "
         "other,\" said Tamsin Boyd, an analyst at Harbour Energy Research in Singapore.",
         "A stronger dollar weighed on prices. The U.S. currency touched a three-month high after Federal "
         "Reserve officials pushed back against expectations of a rate cut in March."]
h = Hasher()


def sig(paras):
    return h.signature("\n\n".join(paras))


def test_identical_and_lightly_edited_bodies_are_copies():
    assert compare(sig(PARAS), sig(PARAS)).copy
    merged = [PARAS[0] + " " + PARAS[1]] + PARAS[2:]
    assert compare(sig(PARAS), sig(merged)).jaccard == 1.0
    assert compare(sig(PARAS), sig(PARAS + ["Aftershocks of the rally were felt in Asian trade."])).copy


def test_a_cut_copy_is_contained():
    cut = sig(PARAS[:2])
    v = compare(sig(PARAS), cut)
    assert v.jaccard < MatchRules().jaccard  # Jaccard alone would miss it
    assert v.containment > 0.8 and v.copy


def test_a_short_body_is_not_a_copy_by_containment_alone():
    v = compare(sig(PARAS), sig([LEAD]))  # 21 shingles, below min_contained
    assert v.containment > 0.75 and not v.copy


def test_template_look_alike_with_other_numbers_is_not_a_copy():
    other = [p.replace("48 cents", "31 cents").replace("0.6%", "0.4%").replace("78.47", "78.28")
             .replace("51 cents", "34 cents").replace("0.7%", "0.5%").replace("73.29", "73.02")
             .replace("0735", "0650").replace("7%", "5%") for p in PARAS]
    v = compare(sig(PARAS), sig(other))
    assert v.jaccard >= 0.5, "the look-alike is similar enough to need the guard"
    assert v.marks is not None and v.marks < 0.7 and not v.copy


def test_unrelated_bodies_are_not_copies():
    v = compare(sig(PARAS), h.signature("The Senate approved a stopgap spending bill on Friday by 71 votes."))
    assert v.jaccard < 0.1 and not v.copy


def test_empty_is_no_copy():
    assert not compare(h.signature(""), h.signature("")).copy
