"""Language detection: the gate in front of the English model."""

from __future__ import annotations

import pytest

from transforms.entities.language import detect_language, normalise_code

PARAGRAPHS = {
    "en": "The central bank kept its main interest rate unchanged on Thursday and said inflation was easing.",
    "de": "Die Zentralbank hat ihren Leitzins am Donnerstag unverändert gelassen und erklärt, die Teuerung lasse nach.",
    "fr": "La banque centrale a laissé son taux directeur inchangé jeudi et a estimé que l'inflation ralentissait.",
    "es": "El banco central mantuvo sin cambios su tipo de interés el jueves y dijo que la inflación cedía.",
    "it": "La banca centrale ha lasciato invariato il tasso di interesse giovedì e ha detto che i prezzi calano.",
    "pt": "O banco central manteve a taxa de juros inalterada na quinta-feira e disse que a inflação está a abrandar.",
    "nl": "De centrale bank hield de rente donderdag ongewijzigd en zei dat de inflatie aan het afnemen is.",
    "ru": "Центральный банк в четверг сохранил ключевую ставку без изменений и заявил, что инфляция замедляется.",
    "zh": "中央银行周四宣布维持主要利率不变，并表示通货膨胀正在放缓。",
    "ar": "أبقى البنك المركزي على سعر الفائدة الرئيسي دون تغيير يوم الخميس وقال إن التضخم يتراجع.",
}


@pytest.mark.parametrize(("code", "text"), sorted(PARAGRAPHS.items()))
def test_detects_the_language_of_a_paragraph(code, text):
    language, confidence = detect_language(text)
    assert language == code
    assert confidence > 0.5


def test_too_little_text_falls_back_to_the_hint():
    assert detect_language("G7", hint="en-GB") == ("en", 0.0)
    assert detect_language("", hint=None) == (None, 0.0)


def test_short_headline_without_a_hint_has_no_language():
    assert detect_language("Floods hit Dhaka")[0] is None
    assert detect_language("Floods hit Dhaka", hint="en")[0] == "en"


def test_hint_does_not_override_a_clear_text():
    assert detect_language(PARAGRAPHS["de"], hint="en")[0] == "de"


@pytest.mark.parametrize(("raw", "code"), [("en-US", "en"), ("EN_gb", "en"), ("de", "de"), ("", None), (None, None)])
def test_normalise_code(raw, code):
    assert normalise_code(raw) == code


def test_the_feed_language_decides_unless_the_text_is_sure():
    unsure = "Ajax 2 PSV 1, Feyenoord 0 Twente 0, Utrecht 3 Vitesse 1"
    assert detect_language(unsure, "en")[0] == "en"
    german = "Die Bundesregierung hat am Mittwoch in Berlin neue Hilfen für die Landwirtschaft beschlossen."
    assert detect_language(german, "en")[0] == "de"


def test_a_table_goes_to_the_language_of_its_common_words():
    table = ("Standings: Ajax 8 6 1 1 20 5 19, PSV 8 5 2 1 18 8 17, Feyenoord 8 5 1 2 13 9 16, "
             "Vitesse 8 4 2 2 12 9 14, Twente 8 4 1 3 11 10 13, Heerenveen 8 3 3 2 12 11 12, "
             "Utrecht 8 3 2 3 10 10 11, Groningen 8 2 3 3 9 11 9 (tabulate under played, won, drawn, lost)")
    assert detect_language(table, None, ("en", "fr"))[0] == "en"
    assert detect_language("Floods hit Dhaka", None, ("en", "fr"))[0] is None  # a headline alone says too little
    dutch = "De regering heeft woensdag nieuwe steun voor de landbouw aangekondigd, zei de minister in Den Haag."
    assert detect_language(dutch, None, ("en", "fr"))[0] == "nl"
