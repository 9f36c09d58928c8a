"""Text as the model reads it (casing) and what the words around a name say (context rules)."""

from __future__ import annotations

import pytest

from transforms.entities.casing import blank_slug, is_shouted, prepare, recase_dateline
from transforms.entities.rules import company_positions, is_sports, team_positions

NAMES = {"japan": "Japan", "australia": "Australia", "nato": "NATO", "surrey": "Surrey"}


def spelling(word: str) -> str | None:
    return NAMES.get(word.casefold())


def test_shouted_lines_take_the_articles_spellings_and_keep_their_length():
    title = "SOCCER - JAPAN GET LUCKY WIN, NATO IN SURPRISE"
    body = "TOKYO, Sept 10 - Japan beat the McLaren Eagles on Tuesday.\nMcLAREN EAGLES CRUSHED"
    new_title, new_body, datelines = prepare(title, body, spelling)
    assert new_title == "Soccer - Japan get lucky win, NATO in surprise"
    assert new_body.splitlines()[1] == "McLaren Eagles crushed"
    assert new_body.startswith("Tokyo, Sept 10") and datelines == [(0, 5)]
    assert len(new_title) == len(title) and len(new_body) == len(body)


@pytest.mark.parametrize(
    ("line", "shouted"),
    [("CRICKET", True), ("WORLD CUP QUALIFIER", True), ("PORT-AU-PRINCE, June 25 (AFP) - A first", False),
     ("UN", False), ("The UN said", False)],
)
def test_is_shouted(line, shouted):
    assert is_shouted(line) is shouted


@pytest.mark.parametrize(
    ("line", "expected", "place"),
    [
        ("NEW YORK/LONDON, March 12 (Reuters) - World", "New York/London, March 12 (Reuters) - World", (0, 15)),
        ("ISTANBUL (AA) - Turkish", "Istanbul (AA) - Turkish", (0, 8)),
        ("CHICAGO 1996-08-22", "Chicago 1996-08-22", (0, 7)),
        ("UN-backed forces arrived", "UN-backed forces arrived", None),
        ("NATO allies pledged", "NATO allies pledged", None),
    ],
)
def test_datelines(line, expected, place):
    assert recase_dateline(line) == (expected, place)


def test_a_dateline_only_opens_a_story():
    body = "intro line\nsecond\nthird\nBOSTON, the city, is not a dateline here"
    assert prepare("t", body, spelling)[2] == []


def test_slugs_are_blanked_out():
    assert blank_slug("Cricket-Surrey beat Kent", spelling) == "        Surrey beat Kent"
    assert blank_slug("Soccer-Spanish first division results", spelling) == "       Spanish first division results"
    assert blank_slug("Japan-Australia talks", spelling) == "Japan-Australia talks"
    assert blank_slug("Xi meets Putin", spelling) == "Xi meets Putin"


def _spans(text: str, names: list[str]) -> list[tuple[int, int]]:
    return [(text.index(n), text.index(n) + len(n)) for n in names]


def test_team_positions():
    text = (
        "Barcelona beat Sevilla 3-1 at Montjuic, the club said in Barcelona.\n"
        "Boston 6 Toronto 3; Baltimore 4 Tampa Bay 2\n"
        "1 Vikingur 23 16 4\n"
        "Arsenal manager Mikel Arteta praised Chelsea."
    )
    names = ["Barcelona", "Sevilla", "Montjuic", "Boston", "Toronto", "Baltimore", "Tampa Bay", "Vikingur",
             "Arsenal", "Mikel Arteta", "Chelsea"]
    found = {names[i] for i in team_positions(text, _spans(text, names))}
    assert found == {"Barcelona", "Sevilla", "Boston", "Toronto", "Baltimore", "Tampa Bay", "Vikingur", "Arsenal"}


def test_company_positions():
    text = "Shares of Boeing fell. Alaska shares were flat. Equinor Chief Executive Anders Opedal said Norway grew."
    names = ["Boeing", "Alaska", "Equinor", "Anders Opedal", "Norway"]
    assert {names[i] for i in company_positions(text, _spans(text, names))} == {"Boeing", "Alaska", "Equinor"}


def test_sports_copy():
    assert is_sports("Soccer-Results", "Barcelona 3 Sevilla 1\nValencia 1 Getafe 1\nReal Madrid 2 Villarreal 0")
    assert is_sports("Surrey beat Kent", "Surrey beat Kent by six wickets in the County Championship.")
    assert not is_sports("ECB holds rates", "The European Central Bank kept rates at 4% on Thursday, Lagarde said.")
