"""Cleaning agency wire copy: notes to their field, stories that end at a marker, hard-wrapped text rejoined."""

from __future__ import annotations

import pytest

from transforms.article import Article
from transforms.cleaning import Cleaner, clean_article
from transforms.cleaning.html_text import text_to_paragraphs


@pytest.fixture(scope="module")
def cleaner() -> Cleaner:
    return Cleaner.from_dir()


def test_a_leading_editors_note_goes_to_the_notes(cleaner: Cleaner):
    result = cleaner.clean("(Updates with closing prices)\n\nTOKYO, May 2 (Reuters) - Shares rose.")
    assert result.text == "Shares rose."
    assert result.notes == ["Updates with closing prices"]
    assert result.dateline == {"location": "TOKYO", "date_text": "May 2"}
    assert result.to_json()["notes"] == ["Updates with closing prices"]


def test_clean_article_joins_notes_to_the_wire_note_and_keeps_the_element_dateline(cleaner: Cleaner):
    art = Article(id="1", guid="g", url="", canonical_url="", title="Shares rose",
                  content_html="<p>(Adds analyst quote)</p><p>Shares rose on Monday.</p>",
                  dateline={"location": "TOKYO", "date_text": None},
                  wire={"editorial_note": "Eds: updates", "status": "usable", "version_key": 7})
    out = clean_article(art, cleaner)
    assert out.text == "Shares rose on Monday."
    assert out.wire["editorial_note"] == "Eds: updates; Adds analyst quote"
    assert out.dateline == {"location": "TOKYO", "date_text": None}  # none in the text: the element's stays
    assert art.wire["editorial_note"] == "Eds: updates"  # the input is not changed


def test_a_wire_story_hashes_its_status_and_version(cleaner: Cleaner):
    def cleaned(status: str, key: int) -> str:
        art = Article(id="1", guid="g", url="", canonical_url="", title="T", content_html="<p>Same words.</p>",
                      wire={"status": status, "version_key": key})
        return clean_article(art, cleaner).content_hash

    assert cleaned("usable", 1) == cleaned("usable", 1)
    assert len({cleaned("usable", 1), cleaned("usable", 2), cleaned("canceled", 2)}) == 3
    plain = Article(id="1", guid="g", url="", canonical_url="", title="T", content_html="<p>Same words.</p>")
    assert clean_article(plain, cleaner).content_hash != cleaned("usable", 1)


def test_a_rest_marker_ends_the_story_and_is_audited(cleaner: Cleaner):
    text = ("Bonn (dpa) - Bonn will host the climate talks.\n\nThe talks open in June.\n\n# Notebook\n\n"
            "- Photos will follow.\n\n- Check the final programme.")
    result = cleaner.clean(text)
    assert result.text == "Bonn will host the climate talks.\n\nThe talks open in June."
    assert any(r.rule == "iptc7901.notebook" and r.text.endswith("Check the final programme.") for r in result.removed)


def test_a_rest_marker_never_takes_most_of_a_story(cleaner: Cleaner):
    body = "Short lead.\n\n# Notebook\n\n" + "\n\n".join(f"This is sentence {i} of the notes." for i in range(30))
    result = cleaner.clean(body)
    assert "This is sentence 29 of the notes." in result.text
    assert not any(r.rule == "iptc7901.notebook" for r in result.removed)


@pytest.mark.parametrize("raw, paragraphs", [
    # indented paragraph starts, no blank lines (Kyodo's ANPA copy)
    ("OSAKA, May 3 Kyodo - The city said Sunday it would close two of its oldest\n"
     "public pools this summer for repairs expected to last a year.\n"
     "   The pools were built in 1964.\n==Kyodo",
     ["OSAKA, May 3 Kyodo - The city said Sunday it would close two of its oldest public pools this summer for "
      "repairs expected to last a year.", "The pools were built in 1964.", "==Kyodo"]),
    # a first line longer than 80 characters, a dateline and credit ahead of the wrapped text
    ("PORTO ALEGRE, Brazil, Aug. 4, 2026 /PRNewswire/ -- Example Grains S.A. today opened\n"
     "a port terminal for soybean exports with room for 80 ships a year.",
     ["PORTO ALEGRE, Brazil, Aug. 4, 2026 /PRNewswire/ -- Example Grains S.A. today opened a port terminal for "
      "soybean exports with room for 80 ships a year."]),
    # two lines, the first stopping on a word that needs the next
    ("Kiel (dpa) - Germany's navy will take delivery of two new frigates in\nthe autumn, the ministry said on Monday.",
     ["Kiel (dpa) - Germany's navy will take delivery of two new frigates in the autumn, the ministry said on "
      "Monday."]),
    # a headline line and a sentence: two lines, not one wrapped paragraph
    ("Harbour strike ends after three weeks of talks\n"
     "Dock workers returned to the port on Monday morning, officials said.",
     ["Harbour strike ends after three weeks of talks",
      "Dock workers returned to the port on Monday morning, officials said."]),
    # the end of a wrapped paragraph, then a line of its own
    ("   The line will carry freight between the two ports, which are\nabout 40 kilometres apart.\n==Kyodo",
     ["The line will carry freight between the two ports, which are about 40 kilometres apart.", "==Kyodo"]),
    # a contact block keeps its lines
    ("Media contact:\nAna Reyes\nTel: +63 2 555 0100",
     ["Media contact:", "Ana Reyes", "Tel: +63 2 555 0100"]),
    # ANPA typesetting lines are lines, whatever their length
    ("^BC-US--Storm-Damage, 1st Ld-Writethru,0412<\n^Storms damage homes across three counties in Texas<\n"
     "   The storms hit on Tuesday.",
     ["^BC-US--Storm-Damage, 1st Ld-Writethru,0412<", "^Storms damage homes across three counties in Texas<",
      "The storms hit on Tuesday."]),
])
def test_hard_wrapped_text_is_rejoined(raw: str, paragraphs: list[str]):
    assert text_to_paragraphs(raw) == paragraphs
