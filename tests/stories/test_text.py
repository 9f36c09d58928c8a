"""Tokens, shingles and marks of a cleaned body."""

from transforms.stories.text import fold, hash32, marks, shingles, tokens


def test_tokens_ignore_paragraphs_punctuation_case_and_accents():
    a = tokens("The minister, Arturo Vélez, said: “We agree.”\n\nTalks end on Friday.")
    b = tokens("the minister arturo velez said we agree talks end on friday")
    assert a == b


def test_numbers_are_tokens_with_their_formatting_normalised():
    assert tokens("1,000 barrels at $78.47, up 0.6%") == ["1000", "barrels", "at", "78.47", "up", "0.6"]
    assert tokens("6,41 billion") == ["6.41", "billion"]


def test_possessives_and_apostrophes():
    assert tokens("China’s exports and Korea's") == ["china", "exports", "and", "korea"]


def test_merging_or_splitting_paragraphs_changes_no_shingle():
    text = "First sentence here. Second sentence there.\n\nThird one follows now."
    merged = "First sentence here. Second sentence there. Third one follows now."
    split = "First sentence here.\n\nSecond sentence there.\n\nThird one follows now."
    assert shingles(tokens(text)) == shingles(tokens(merged)) == shingles(tokens(split))


def test_short_body_is_one_shingle_and_empty_is_none():
    assert shingles(["rain", "today"], 4) == {b"rain today"}
    assert shingles([], 4) == set()
    assert len(shingles(tokens("a b c d e f"), 4)) == 3


def test_marks_are_numbers_and_names_not_sentence_starts():
    numbers, names = marks("Oil rose on Tuesday. Brent was up 48 cents at $78.47, said Tamsin Boyd of "
                           "Harbour Energy.\n\nAnalysts said: “Demand is weak.”")
    assert numbers == {"48", "78.47"}
    assert names == {"tuesday", "tamsin", "boyd", "harbour", "energy"}  # Oil, Brent, Analysts, Demand start one


def test_marks_tell_a_template_apart():
    a = marks("Harbor Point Bancorp on Tuesday reported net income of $18.4 million, or $1.12 per share.")
    b = marks("Cobalt Ridge Mining on Tuesday reported net income of $42.7 million, or 67 cents per share.")
    assert a[0] & b[0] == set()
    assert a[1] & b[1] == {"tuesday"}


def test_fold_and_hash_are_stable():
    assert fold("São PAULO") == "sao paulo"
    assert hash32(["a", "b", "a"]) == hash32(["b", "a"]) == sorted(hash32(["a", "b"]))
    assert hash32(["tuesday"]) == [3961368825]  # CRC-32: the same in every process and run
