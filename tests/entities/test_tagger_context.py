"""The tagger beyond the model: headlines in capitals, datelines, teams, companies, surnames, offices, the
language gate, French, every mention with its entity, and ``wirenews tag --mentions``."""

from __future__ import annotations

import json

import pytest

from pipeline.cli import main
from transforms.entities import Tagger


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger.load()


def mentions(tagger: Tagger, title: str, body: str, hint: str | None = None) -> list[tuple[str, str, str, str]]:
    result, found = tagger.analyse([(title, body)], hints=[hint])[0]
    assert result.status == "tagged", result.status
    for m in found:  # offsets point into the original title or body
        assert (title if m["field"] == "title" else body)[m["start"] : m["end"]] == m["text"]
    return [(m["text"], m["type"], m["entity"], m["field"]) for m in found]


def test_results_table_teams_are_organisations_and_the_dateline_a_place(tagger):
    body = (
        "BARCELONA, Oct 19 - Results of Spanish first division matches on Saturday:\n"
        "Barcelona 3 Sevilla 1\nValencia 1 Getafe 1\n"
        "Standings (tabulate under played, won, drawn, lost, goals for, against, points):\n"
        "Barcelona 10 8 1 1 28 9 25\nValencia 10 2 4 4 9 15 10"
    )
    found = mentions(tagger, "SOCCER - SPANISH LEAGUE RESULTS", body)
    assert ("BARCELONA", "GPE", "Barcelona", "text") in found
    assert {(text, type_) for text, type_, _, field in found if field == "text" and text != "BARCELONA"} == {
        ("Barcelona", "ORG"), ("Sevilla", "ORG"), ("Valencia", "ORG"), ("Getafe", "ORG"), ("Spanish", "NORP")}


def test_county_sides_in_a_shouted_headline_and_a_country_that_stays_a_place(tagger):
    found = mentions(tagger, "CRICKET - SURREY BEAT KENT", "LONDON, June 14 - Surrey beat Kent by six wickets.")
    assert ("SURREY", "ORG", "Surrey", "title") in found and ("KENT", "ORG", "Kent", "title") in found
    found = mentions(tagger, "Japan beat Australia", "SAITAMA, Sept 10 - Japan beat Australia 2-0 in a qualifier.")
    assert ("Japan", "GPE", "Japan", "text") in found and ("Australia", "GPE", "Australia", "text") in found


def test_companies_by_their_context(tagger):
    found = mentions(tagger, "Shares fall", "Shares of Hollandia Tankers fell 3%. Kessler shares rose 2% in Oslo.")
    assert ("Hollandia Tankers", "ORG", "Hollandia Tankers", "text") in found
    assert ("Kessler", "ORG", "Kessler", "text") in found


def test_names_in_a_list_of_places_are_places(tagger):
    body = ("The programme will cover 10 counties including Turkana, Marsabit and Mandera. Floods also hit "
            "Kilifi and Kwale counties, and aid reached the regions of Tigray and Amhara.")
    found = {(text, type_) for text, type_, _, field in mentions(tagger, "Drought aid", body) if field == "text"}
    for place in ("Marsabit", "Mandera", "Kilifi", "Kwale", "Tigray"):
        assert (place, "GPE") in found, found


def test_a_list_of_companies_or_people_is_not_a_list_of_places(tagger):
    body = ("Brands including Unilever and Nestle cut prices. Ministers such as Ruto and Odinga spoke in "
            "cities they had not visited.")
    found = {(text, type_) for text, type_, _, field in mentions(tagger, "Prices", body) if field == "text"}
    assert not {text for text, type_ in found if type_ == "GPE"} & {"Unilever", "Nestle", "Ruto", "Odinga"}, found


def test_a_family_name_alone_is_the_person_and_offices_come_off(tagger):
    found = mentions(tagger, "Wang meets Blinken",
                     "Chinese Foreign Minister Wang Yi met Antony Blinken. Wang said Washington should stop.")
    assert [(text, type_, entity) for text, type_, entity, field in found if text == "Wang"] == [
        ("Wang", "PERSON", "Wang Yi"), ("Wang", "PERSON", "Wang Yi")]
    found = mentions(tagger, "No plans", "Kremlin Spokesman Dmitry Peskov said there were no plans by 1400 GMT.")
    assert ("Kremlin", "ORG", "Kremlin", "text") in found
    assert ("Dmitry Peskov", "PERSON", "Dmitry Peskov", "text") in found
    assert not any(text in ("GMT", "Kremlin Spokesman") for text, *_ in found)


def test_every_mention_has_the_type_of_its_entity(tagger):
    result, found = tagger.analyse([("Barrick halts exports", "Barrick Gold halted exports. Barrick said so.")])[0]
    types = {e["name"]: e["type"] for e in result.entities}
    assert found and all(types[m["entity"]] == m["type"] for m in found)
    assert [m["entity"] for m in found] == ["Barrick Gold"] * 3


def test_the_language_gate_keeps_english_tables_and_honours_the_feed(tagger):
    table = ("Standings: Ajax 8 6 1 1 20 5 19, PSV 8 5 2 1 18 8 17, Feyenoord 8 5 1 2 13 9 16, "
             "Vitesse 8 4 2 2 12 9 14, Twente 8 4 1 3 11 10 13, Heerenveen 8 3 3 2 12 11 12, "
             "Utrecht 8 3 2 3 10 10 11, Groningen 8 2 3 3 9 11 9")
    assert tagger.tag("Dutch league standings", table).status == "tagged"
    assert tagger.tag_many([("Dutch league standings", table)], hints=["en"])[0].language == "en"
    german = "Die Bundesregierung hat am Mittwoch in Berlin neue Hilfen für die Landwirtschaft beschlossen."
    sure = tagger.tag_many([("Neue Hilfen", german)], hints=["en"])[0]
    assert sure.language == "de" and sure.status == "skipped: language de has no model"  # the text is sure


def test_french_gets_entities_from_the_french_pipeline(tagger):
    body = ("PARIS, 16 février (AFP) - Le président Emmanuel Macron a reçu vendredi Volodymyr Zelensky à Paris, "
            "où les deux dirigeants ont signé un accord de sécurité avec l'Union européenne.")
    result = tagger.tag_many([("Macron reçoit Zelensky", body)], hints=["fr"])[0]
    assert result.language == "fr" and result.status == "tagged"
    assert {"Emmanuel Macron", "Volodymyr Zelensky"} <= set(result.facets["person"])
    assert "Paris" in result.facets["location"]


def test_cli_tag_mentions_reads_json_lines(tmp_path, capsys):
    lines = [
        {"title": "Surrey beat Kent", "text": "LONDON, June 14 - Surrey beat Kent by six wickets.", "language": "en"},
        "not json",
        {"text": "Le président Emmanuel Macron était à Lyon mardi, a indiqué l'Elysée.", "language": "fr"},
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    assert main(["tag", "--mentions", str(path)]) == 1  # one bad line, said in its place; the others tagged
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(out) == 3 and out[1] == {"line": 2, "error": out[1]["error"]} and "not JSON" in out[1]["error"]
    assert {"Surrey", "Kent"} <= {m["entity"] for m in out[0]["mentions"] if m["type"] == "ORG"}
    assert out[2]["language"] == "fr" and "Emmanuel Macron" in {m["entity"] for m in out[2]["mentions"]}
    first = out[0]["mentions"][0]
    assert set(first) == {"start", "end", "text", "type", "entity", "field"}


def test_cli_tag_plain_text_with_mentions(tmp_path, capsys):
    path = tmp_path / "story.txt"
    path.write_text("Newmont said on Thursday it would sell six mines.", encoding="utf-8")
    assert main(["tag", "--mentions", "--title", "Newmont to sell mines", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "tagged" and [m["text"] for m in out["mentions"]] == ["Newmont", "Newmont"]
