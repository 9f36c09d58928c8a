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
