"""The story id rule over one batch."""

from transforms.stories import Hasher, Incoming, Member, assign, settle

h = Hasher()
A = ("Malaria cases worldwide rose to an estimated 263 million last year, up 11 million from the year before, "
     "the World Health Organization said Wednesday, warning that climate change, conflict and drug resistance "
     "were undermining progress. Deaths were roughly stable at 597,000, with 95 percent of them in Africa.")
B = ("A 6.7-magnitude earthquake struck off Indonesia's remote Talaud islands early Tuesday, the US Geological "
     "Survey said, shaking buildings but with no immediate reports of casualties or major damage. The quake hit "
     "at a depth of 80 kilometres, about 136 kilometres from the town of Sarangani.")


def inc(article_id, text, seen="2024-01-01T00:00:00Z"):
    s = h.signature(text)
    return Incoming(article_id, seen, s, tuple(h.band_keys(s)))


def member(article_id, story, text):
    s = h.signature(text)
    return Member(article_id, story, s, tuple(h.band_keys(s)))


def no_order(story):
    raise AssertionError("no stored story to order")


def test_new_story_gets_the_founders_id_and_a_copy_in_the_batch_joins_it():
    batch = [inc("b", A + " Enditem", "2024-01-01T00:00:05Z"), inc("a", A, "2024-01-01T00:00:01Z"),
             inc("c", B)]
    out = {x.article_id: x for x in assign(batch, {}, {}, no_order)}
    assert out["a"].story_id == "a" and out["a"].founded
    assert out["b"].story_id == "a" and not out["b"].founded
    assert out["c"].story_id == "c" and out["c"].founded


def test_outcome_does_not_depend_on_delivery_order():
    batch = [inc("x2", A, "2024-01-01T00:00:02Z"), inc("x1", A + " (END)", "2024-01-01T00:00:01Z")]
    first = assign(batch, {}, {}, no_order)
    second = assign(list(reversed(batch)), {}, {}, no_order)
    assert {x.article_id: x.story_id for x in first} == {x.article_id: x.story_id for x in second} \
        == {"x1": "x1", "x2": "x1"}


def test_copy_joins_the_earliest_stored_story_it_matches():
    cands = {"new": [member("m1", "late", A), member("m2", "early", A + " Endi")]}
    order = {"late": 7, "early": 3}.__getitem__
    [out] = assign([inc("new", A)], {}, cands, order)
    assert out.story_id == "early" and set(out.matched) == {"late", "early"} and not out.founded


def test_stored_candidates_that_are_not_copies_are_ignored():
    [out] = assign([inc("new", A)], {}, {"new": [member("q", "quake", B)]}, no_order)
    assert out.story_id == "new" and out.founded


def test_a_known_article_keeps_its_story():
    # A later version of a wire story: same article id, its body changed.
    [out] = assign([inc("v", A + " It was updated.")], {"v": "s1"}, {"v": [member("o", "other", A)]}, no_order)
    assert out.story_id == "s1" and out.known and not out.founded


def test_settle_keeps_the_story_founded_first():
    order = {"a": 10, "b": 12}.__getitem__
    assert settle("b", ["a"], order) == "a"
    assert settle("a", ["b"], order) == "a"
    assert settle("a", [], order) == "a"


def test_of_copies_met_together_the_one_published_first_founds_the_story():
    wire = Incoming("wire", "2024-01-01T10:00:09Z", h.signature(A), tuple(h.band_keys(h.signature(A))),
                    published_at="2024-01-01T08:00:00Z")
    portal = Incoming("portal", "2024-01-01T10:00:01Z", h.signature(A + " Endi"),
                      tuple(h.band_keys(h.signature(A + " Endi"))), published_at="2024-01-01T09:30:00Z")
    out = {x.article_id: x.story_id for x in assign([portal, wire], {}, {}, no_order)}
    assert out == {"wire": "wire", "portal": "wire"}
