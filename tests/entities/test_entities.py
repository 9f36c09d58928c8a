"""Entity tagging: trimming, canonical names, salience, the model's integrity, the DoFn."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import SEED
from transforms.article import Article
from transforms.entities.aliases import AliasTable
from transforms.entities.mentions import FACETS, Mention, facets_of, mentions_from_doc, resolve_entities, trim_mention
from transforms.entities.model import SHA256_ENV, ModelIntegrityError, _needed_by_ner, resolve_model_path
from transforms.entities.tagger import EntityResult, Tagger, apply_entities, load_nlp

NUMERIC_TYPES = {"DATE", "TIME", "CARDINAL", "ORDINAL", "MONEY", "PERCENT", "QUANTITY"}


@pytest.fixture(scope="module")
def nlp():
    return load_nlp()


@pytest.fixture(scope="module")
def tagger(nlp):
    return Tagger(nlp, AliasTable.load())


def seed_body() -> str:
    """The seed without its last two lines' forum footer, which the clean stage removes."""
    if not SEED.is_file():
        pytest.skip(f"seed article not found at {SEED}")
    lines = SEED.read_text(encoding="utf-8").splitlines()
    last = lines[-2]
    assert last.endswith(" Endi") and lines[-1].startswith("Go to Forum")
    return "\n".join([*lines[:-2], last[: -len(" Endi")]])


# --- trimming -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("span", "start", "expected"),
    [
        ("the UN Security Council", 10, ("UN Security Council", 14)),
        ("The White House", 0, ("White House", 4)),
        ("Putin's", 5, ("Putin", 5)),
        ("Putin\u2019s", 5, ("Putin", 5)),
        ("Russia,", 0, ("Russia", 0)),
        ('"NATO"', 3, ("NATO", 4)),
        ("U.S.", 0, ("U.S.", 0)),
        ("Acme Inc.", 0, ("Acme Inc.", 0)),
        ("Beijing.", 0, ("Beijing", 0)),
        ("the Philippines'", 0, ("Philippines", 4)),
        ("Mr. Putin", 0, ("Putin", 4)),
        ("@POTUS", 0, ("POTUS", 1)),
        ("Isis (Institute of Strategic and International Studies", 0, ("Isis", 0)),
        ("US Agency for International Development (USAID)", 0, ("US Agency for International Development", 0)),
        ("(USAID)", 0, ("USAID", 1)),
        ("Issam Abdallah - found", 0, ("Issam Abdallah", 0)),
        ("Real Madrid: The International Champions Cup", 0, ("Real Madrid", 0)),
        ("naira", 0, None),
        ("--", 0, None),
        ("the", 0, None),
    ],
)
def test_trim_mention(span, start, expected):
    assert trim_mention(span, start) == expected


# --- canonical names ------------------------------------------------------------------------


def body_mentions(*items: tuple[str, str]) -> list[Mention]:
    mentions, offset = [], 0
    for text, type_ in items:
        mentions.append(Mention(text, type_, offset, False))
        offset += 100
    return mentions


def names(entities) -> dict[str, tuple[str, int]]:
    return {e["name"]: (e["type"], e["mentions"]) for e in entities}


def test_short_mentions_resolve_to_the_full_name():
    mentions = body_mentions(
        ("Xi Jinping", "PERSON"),
        ("Vladimir Putin", "PERSON"),
        ("Xi", "PERSON"),
        ("Putin", "PERSON"),
        ("Putin", "PERSON"),
    )
    assert names(resolve_entities(mentions, AliasTable.empty(), 1000)) == {
        "Xi Jinping": ("PERSON", 2),
        "Vladimir Putin": ("PERSON", 3),
    }


def test_ambiguous_short_mention_is_kept():
    mentions = body_mentions(("Kim Jong Un", "PERSON"), ("Kim Yo Jong", "PERSON"), ("Kim", "PERSON"))
    assert set(names(resolve_entities(mentions, AliasTable.empty(), 1000))) == {"Kim Jong Un", "Kim Yo Jong", "Kim"}


def test_short_forms_do_not_cross_types():
    mentions = body_mentions(("Jordan", "GPE"), ("Jordan Peterson", "PERSON"), ("Peterson", "PERSON"))
    result = names(resolve_entities(mentions, AliasTable.empty(), 1000))
    assert result == {"Jordan": ("GPE", 1), "Jordan Peterson": ("PERSON", 2)}


def test_mistyped_surname_joins_its_person():
    mentions = body_mentions(("Vladimir Putin", "PERSON"), ("Putin", "ORG"))
    assert names(resolve_entities(mentions, AliasTable.empty(), 1000)) == {"Vladimir Putin": ("PERSON", 2)}


def test_alias_table_names_and_types():
    aliases = AliasTable.from_dict({"ORG": {"United Nations": ["UN"]}, "GPE": {"Kyiv": ["Kiev"]}})
    mentions = body_mentions(
        ("UN", "ORG"),
        ("U.N.", "GPE"),
        ("the United Nations", "ORG"),
        ("Kiev", "PERSON"),
        ("UN Security Council", "ORG"),
    )
    result = names(resolve_entities(mentions, aliases, 1000))
    # "UN" is a name of its own in the table: it is not folded into the longer council.
    assert result == {"United Nations": ("ORG", 3), "Kyiv": ("GPE", 1), "UN Security Council": ("ORG", 1)}


def test_person_name_wins_over_the_table_for_its_parts():
    aliases = AliasTable.from_dict({"GPE": {"Jordan": []}})
    mentions = body_mentions(("Michael Jordan", "PERSON"), ("Jordan", "PERSON"), ("Jordan", "GPE"))
    assert names(resolve_entities(mentions, aliases, 1000)) == {"Michael Jordan": ("PERSON", 2), "Jordan": ("GPE", 1)}


def test_case_variants_merge_and_prefer_mixed_case():
    mentions = body_mentions(("RUSSIA", "GPE"), ("Russia", "GPE"), ("Russia", "GPE"))
    assert names(resolve_entities(mentions, AliasTable.empty(), 1000)) == {"Russia": ("GPE", 3)}


def test_salience_orders_by_mentions_title_and_position():
    mentions = [
        Mention("Alpha Corp", "ORG", 0, True),
        Mention("Alpha Corp", "ORG", 50, False),
        Mention("Beta Town", "GPE", 10, False),
        Mention("Beta Town", "GPE", 400, False),
        Mention("Gamma", "NORP", 900, False),
    ]
    entities = resolve_entities(mentions, AliasTable.empty(), 1000)
    assert [e["name"] for e in entities] == ["Alpha Corp", "Beta Town", "Gamma"]
    alpha = entities[0]
    assert alpha["in_title"] is True and alpha["first_offset"] == 50 and alpha["mentions"] == 2
    assert 0 < entities[-1]["salience"] < entities[1]["salience"] < alpha["salience"] <= 1


def test_facets_group_types():
    entities = [
        {"name": "Paris", "type": "GPE"},
        {"name": "Alps", "type": "LOC"},
        {"name": "Eiffel Tower", "type": "FAC"},
        {"name": "UN", "type": "ORG"},
        {"name": "Ann Lee", "type": "PERSON"},
        {"name": "French", "type": "NORP"},
        {"name": "Olympics", "type": "EVENT"},
    ]
    facets = facets_of(entities)
    assert set(facets) == set(FACETS)
    assert facets["location"] == ["Paris", "Alps", "Eiffel Tower"]
    assert facets["person"] == ["Ann Lee"] and facets["org"] == ["UN"]
    assert facets["norp"] == ["French"] and facets["event"] == ["Olympics"]


# --- the model ------------------------------------------------------------------------------


def test_model_is_ner_only(nlp):
    assert nlp.pipe_names == ["ner"]


def test_hash_mismatch_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(SHA256_ENV, "0" * 64)
    with pytest.raises(ModelIntegrityError) as error:
        load_nlp()
    message = str(error.value)
    assert "ner/model" in message and "0" * 64 in message
    assert "cd93e9ca9126c69f1d10a1039ef67c3d9ec1223b44d079856705970f0f19ff4e" in message


def test_tampered_model_file_is_refused(tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(resolve_model_path("en_core_web_sm"), copy)
    with (copy / "ner" / "model").open("r+b") as handle:
        handle.seek(1000)
        byte = handle.read(1)
        handle.seek(1000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelIntegrityError, match="failed its integrity check"):
        load_nlp(str(copy))


def test_unpinned_model_needs_a_hash(tmp_path, monkeypatch):
    copy = tmp_path / "model"
    shutil.copytree(resolve_model_path("en_core_web_sm"), copy)
    meta = (copy / "meta.json").read_text(encoding="utf-8").replace('"version":"3.8.0"', '"version":"9.9.9"')
    (copy / "meta.json").write_text(meta, encoding="utf-8")
    with pytest.raises(ModelIntegrityError, match="no pinned sha256"):
        load_nlp(str(copy))
    monkeypatch.setenv(SHA256_ENV, "cd93e9ca9126c69f1d10a1039ef67c3d9ec1223b44d079856705970f0f19ff4e")
    assert load_nlp(str(copy)).pipe_names == ["ner"]


def test_ner_listening_to_a_shared_tok2vec_keeps_it():
    def config(tok2vec):
        return {"components": {"ner": {"model": {"tok2vec": tok2vec}}}}

    assert _needed_by_ner(config({"@architectures": "spacy.Tok2Vec.v2"})) == {"ner"}
    assert _needed_by_ner(config({"@architectures": "spacy.Tok2VecListener.v1", "upstream": "*"})) == {"ner", "tok2vec"}


def test_unknown_model_is_a_clear_error():
    with pytest.raises(OSError, match="not found"):
        load_nlp("xx_no_such_model")


# --- the seed article -----------------------------------------------------------------------


def test_seed_article(tagger):
    result = tagger.tag("Xi meets Putin, pledges closer cooperation", seed_body())
    assert result.status == "tagged" and result.language == "en"
    by_name = {e["name"]: e for e in result.entities}
    persons = [e["name"] for e in result.entities if e["type"] == "PERSON"]
    assert sorted(persons) == ["Vladimir Putin", "Xi Jinping"]
    assert by_name["Xi Jinping"]["mentions"] >= 4 and by_name["Vladimir Putin"]["mentions"] >= 4
    assert by_name["China"]["type"] == "GPE" and by_name["Russia"]["type"] == "GPE"
    for org in ("United Nations", "UN Security Council", "Eurasian Economic Union"):
        assert by_name[org]["type"] == "ORG"
    assert not {e["type"] for e in result.entities} & NUMERIC_TYPES
    assert result.facets["person"] == [e["name"] for e in result.entities if e["type"] == "PERSON"]
    assert {"China", "Russia"} <= set(result.facets["location"])
    saliences = [e["salience"] for e in result.entities]
    assert saliences == sorted(saliences, reverse=True)
    assert {"Xi Jinping", "Vladimir Putin"} & {e["name"] for e in result.entities[:2]}


def test_model_mistyped_surname_still_counts_for_the_person(tagger):
    result = tagger.tag(
        "Court rules on appeal",
        "Chief Justice Maria Lindqvist said on Monday that the appeal had failed. Lindqvist declined to comment.",
    )
    assert result.facets["person"] == ["Maria Lindqvist"] and result.facets["org"] == []
    assert result.entities[0]["mentions"] == 2


def test_mentions_from_doc_trims_joins_and_drops(nlp):
    from spacy.tokens import Doc, Span

    words = ["Chief", "Justice", "Maria", "Lindqvist", "met", "Prince", "Abdulaziz", "bin", "Salman", "at", "the"]
    words += ["UN", "'s", "office", "on", "Monday", "."]
    spaces = [True] * len(words)
    spaces[11] = spaces[15] = False
    doc = Doc(nlp.vocab, words=words, spaces=spaces)
    doc.ents = [
        Span(doc, 0, 4, "PERSON"),
        Span(doc, 5, 7, "PERSON"),
        Span(doc, 7, 9, "PERSON"),
        Span(doc, 10, 13, "ORG"),
        Span(doc, 15, 16, "DATE"),
    ]
    mentions = mentions_from_doc(doc, in_title=False)
    assert [(m.text, m.type) for m in mentions] == [
        ("Maria Lindqvist", "PERSON"),
        ("Prince Abdulaziz bin Salman", "PERSON"),
        ("UN", "ORG"),
    ]
    assert [doc.text[m.offset : m.offset + len(m.text)] for m in mentions] == [m.text for m in mentions]


def test_title_is_tagged(tagger):
    result = tagger.tag("Angela Merkel visits Brazil", "The talks lasted two hours.")
    by_name = {e["name"]: e for e in result.entities}
    assert by_name["Brazil"]["in_title"] is True
    assert by_name["Brazil"]["first_offset"] is None


def test_other_languages_are_skipped_and_say_why(tagger):
    german = (
        "Die Bundesregierung hat am Mittwoch in Berlin neue Hilfen für die Landwirtschaft beschlossen. "
        "Der Kanzler sagte, die Maßnahmen sollten noch vor dem Winter wirken."
    )
    result = tagger.tag("Neue Hilfen für Landwirte", german)
    assert result.language == "de"
    assert result.status == "skipped: language de has no model"
    assert result.entities == [] and all(values == [] for values in result.facets.values())


def test_empty_article_is_skipped(tagger):
    assert tagger.tag("", "  ").status == "skipped: no text"


def test_feed_language_decides_for_a_bare_headline(tagger):
    bare = tagger.tag_many([("Floods hit Dhaka", "")])[0]
    assert bare.language is None and bare.status.startswith("skipped: language undetermined")
    hinted = tagger.tag_many([("Floods hit Dhaka", "")], hints=["en-US"])[0]
    assert hinted.language == "en" and hinted.status == "tagged"
    assert hinted.facets["location"] == ["Dhaka"]


def test_tag_many_matches_tag(tagger):
    items = [
        ("Putin meets Xi", seed_body()),
        ("Hilfen", "Die Bundesregierung hat am Mittwoch in Berlin neue Hilfen beschlossen."),
        ("IMF warns on debt", "The IMF said on Tuesday that debt in Kenya and Ghana was rising."),
    ]
    many = tagger.tag_many(items)
    assert [r.to_json() for r in many] == [tagger.tag(*item).to_json() for item in items]
    assert "International Monetary Fund" in many[2].facets["org"]


# --- the article ----------------------------------------------------------------------------


def make_article(title: str, text: str, **kwargs) -> Article:
    return Article(id="a1", guid="g1", url="http://x/1", canonical_url="http://x/1", title=title, text=text, **kwargs)


def test_apply_entities_sets_fields_and_leaves_the_input_alone():
    article = make_article("t", "b")
    details = [{"name": "Ghana", "type": "GPE"}]
    result = EntityResult("en", "tagged", details, facets_of(details))
    tagged = apply_entities(article, result)
    assert tagged.language == "en" and tagged.entities_status == "tagged"
    assert tagged.entities["location"] == ["Ghana"] and tagged.entities["details"] == result.entities
    assert article.entities == {} and article.entities_status is None
    assert result.to_json() == {"language": "en", "status": "tagged", "entities": result.entities}


def test_an_office_and_name_typed_as_organisation_is_that_person(tagger):
    result = tagger.tag("", "ASTANA, Nov. 26 -- Kazakh President Kassym-Jomart Tokayev met Chinese Foreign "
                            "Minister Wang Yi on Wednesday. Tokayev said the Finance Ministry agreed.")
    kinds = {(e["name"], e["type"]): e["mentions"] for e in result.entities}
    assert kinds.get(("Kassym-Jomart Tokayev", "PERSON")) == 2
    assert ("Finance Ministry", "ORG") in kinds  # an office without a name stays an organisation
    assert not [name for name, _ in kinds if "President" in name]


def test_a_quoted_end_mark_and_central_bank_abbreviations(tagger):
    result = tagger.tag("", 'The BOJ and the RBI held rates, Seoul officials said. "We will see (END) soon," '
                            "one analyst joked.")
    assert "END" not in result.facets["org"]
    assert {"Bank of Japan", "Reserve Bank of India"} <= set(result.facets["org"])
