"""HTML and plain wire text to normalised paragraphs."""

from __future__ import annotations

import unicodedata

import ftfy

from transforms.cleaning.html_text import _FTFY, looks_like_html, normalise_text, to_paragraphs


def test_blocks_and_breaks_become_paragraphs() -> None:
    html = "<div><h2>Head</h2><p>One <b>bold</b>\nline.</p>Loose text<br>after break<ul><li>item</li></ul></div>"
    assert to_paragraphs(html) == ["Head", "One bold line.", "Loose text", "after break", "item"]


def test_scripts_styles_and_comments_are_dropped() -> None:
    html = "<p>Kept<!-- hidden --> text.</p><script>alert(1)</script><style>p{}</style><noscript>x</noscript>"
    assert to_paragraphs(html) == ["Kept text."]


def test_pre_keeps_its_lines() -> None:
    assert to_paragraphs("<pre>TABLE\nrow 1\nrow 2</pre>") == ["TABLE", "row 1", "row 2"]


def test_inline_only_markup_splits_on_blank_lines() -> None:
    assert to_paragraphs("First <a href='#'>part</a>.\n\nSecond part.") == ["First part.", "Second part."]


def test_plain_text_lines_are_paragraphs_but_hard_wraps_are_joined() -> None:
    assert to_paragraphs("One.\nTwo.\n\n\nThree.") == ["One.", "Two.", "Three."]
    wrapped = (
        "The council voted on Tuesday to extend the late-night bus service\n"
        "through the summer months, a spokesperson for the transport office\n"
        "said."
    )
    assert to_paragraphs(wrapped) == [wrapped.replace("\n", " ")]


def test_entities_double_encoding_and_mojibake() -> None:
    assert to_paragraphs("<p>AT&amp;T &amp;amp; caf&eacute; &#8364;5</p>") == ["AT&T & café €5"]
    assert normalise_text("The mayorâ€™s office in MÃ¼nchen") == "The mayor\u2019s office in München"
    assert normalise_text("Привет мир, Москва".encode().decode("cp1251")) == "Привет мир, Москва"
    # The cheap pre-check never skips a repair that ftfy itself would make.
    for text in ("Привет мир, Москва", "café São Zürich", "東京都", "naïve – “quoted” €5", "Ærø ™ Œuvre"):
        for codec in ("cp1252", "latin-1", "cp1251", "mac_roman"):
            try:
                broken = text.encode().decode(codec)
            except UnicodeDecodeError:
                continue
            assert normalise_text(broken) == normalise_text(ftfy.fix_text(broken, config=_FTFY)), (codec, broken)


def test_accented_and_cyrillic_text_is_left_alone() -> None:
    for text in ("Zürich, São Paulo, naïve café", "Москва, Россия — «Сёмга»", "Ærø, Øresund, Åland"):
        assert normalise_text(text) == text


def test_quotes_and_cjk_punctuation_are_left_alone() -> None:
    assert normalise_text("\u201cYes,\u201d she said") == "\u201cYes,\u201d she said"
    assert normalise_text("\u4e2d\u56fd\uff0c\u5317\u4eac") == "\u4e2d\u56fd\uff0c\u5317\u4eac"


def test_controls_spaces_and_nfc() -> None:
    text = normalise_text("a\x01b\u00a0\u00a0c\u200bd\u00ade\tf  g Cafe\u0301")
    assert text == "a b cde f g Caf\u00e9"
    assert unicodedata.is_normalized("NFC", text)


def test_anpa_framing() -> None:
    raw = "\x01a0412 AP-Slug,0215\x02WASHINGTON (AP) \u2014 Text one.\n\n Text two.\x03AP-NY-01-05-26 1423GMT\x04"
    assert to_paragraphs(raw) == [
        "a0412 AP-Slug,0215",
        "WASHINGTON (AP) \u2014 Text one.",
        "Text two.",
        "AP-NY-01-05-26 1423GMT",
    ]


def test_detects_markup() -> None:
    assert looks_like_html("<p>x</p>") and looks_like_html("a<br/>b")
    assert not looks_like_html("3 < 4 and x<y") and not to_paragraphs("")
