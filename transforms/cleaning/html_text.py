"""HTML (or plain wire text) to normalised plain text with paragraph breaks kept.

The cleaner's rules work on paragraphs, so this module's one job is to turn
whatever a feed carries into a list of tidy paragraphs: HTML block structure
becomes paragraph breaks, entities are unescaped, mojibake is repaired with
ftfy, Unicode is NFC, and wire control characters and odd spaces are gone.
"""

from __future__ import annotations

import html
import re
import unicodedata

import ftfy
from lxml import etree
from lxml import html as lxml_html

# Elements whose boundaries are paragraph breaks.
BLOCK_TAGS = frozenset(
    """address article aside blockquote body center dd details dialog div dl dt
    fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr html li
    main nav ol p pre section summary table tbody td tfoot th thead tr ul""".split()
)
# Elements whose content is never article text.
DROP_TAGS = frozenset("script style noscript template iframe object embed svg head button select".split())

_TAG_RE = re.compile(r"<(?:[a-zA-Z][a-zA-Z0-9:-]*(?=[\s/>])|/[a-zA-Z][a-zA-Z0-9:-]*\s*>|!--)")
_ENTITY_RE = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});")
# C0/C1 controls used by ANPA 1312 / IPTC 7901 transmissions (SOH, STX, ETX, EOT,
# SYN, field separators, DEL...). Newline and tab are handled separately.
_C0_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# C1 controls are kept until ftfy has had them: they are often part of mojibake it can undo.
_C1_RE = re.compile(r"[\x80-\x9f]")
# UTF-8 read as Latin-1 or Windows-125x leaves a lead byte (Â..ô) followed by a continuation byte shown
# as one of the Windows-1252 upper-half characters, or a C1 control, or Ã/Â/√; text with none of these
# has no mojibake for ftfy to undo, and skipping it there keeps accented text fast.
_CONTINUATION = (
    "\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
)
# UTF-8 read as Windows-1251: lead bytes show as А..я, continuations as Ђ..џ, Ґ, Ё, Latin-1 signs, punctuation.
_CONTINUATION_1251 = "\u0400-\u040f\u0450-\u045f\u0490\u0491\u00a0-\u00bf\u2013-\u203a\u20ac\u2116\u2122"
# UTF-8 read as MacRoman: lead bytes show as accented capitals, signs and dashes, continuations as
# accented letters and symbols.
_LEAD_MAC = "\u00c0-\u00ff\u0152\u0153\u0178\u2013-\u2044\u00ac\u221a\u0192\u2248\u2206\u25ca\ufb01\ufb02\u02c6\u0131"
_CONTINUATION_MAC = (
    "\u00c4\u00c5\u00c7\u00c9\u00d1\u00d6\u00dc\u00e0-\u00fc\u2020\u00b0\u00a2\u00a3\u00a7\u2022\u00b6\u00df"
    "\u00ae\u00a9\u2122\u00b4\u00a8\u2260\u00c6\u00d8\u221e\u00b1\u2264\u2265\u00a5\u00b5\u2202\u2211\u220f"
    "\u03c0\u222b\u00aa\u00ba\u03a9\u00e6\u00f8"
)
_MOJIBAKE_HINT_RE = re.compile(
    rf"[\u00c2-\u00f4][{_CONTINUATION}]|[\u0410-\u044f][{_CONTINUATION_1251}]|[{_LEAD_MAC}][{_CONTINUATION_MAC}]"
    r"|[\x80-\x9f\u00c2\u00c3\u221a]"
)
# Characters that are spaces in disguise, and invisible ones that only break matching.
_SPACE_RE = re.compile(r"[\t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_INVISIBLE_RE = re.compile(r"[\u00ad\u200b-\u200d\u2060\ufeff]")
_LINE_SEP_RE = re.compile(r"\r\n?|[\u2028\u2029\x85]")
_MULTISPACE_RE = re.compile(r" {2,}")
_BLANK_LINES_RE = re.compile(r"\n\s*\n")
# Repair mojibake only: curly quotes, full-width CJK punctuation and ligatures are the author's.
_FTFY = ftfy.TextFixerConfig(
    unescape_html=False, uncurl_quotes=False, fix_character_width=False, fix_latin_ligatures=False, normalization="NFC"
)
_PARA_MARK = "\x00P\x00"  # internal marker for a paragraph break while walking the tree
_LINE_MARK = "\x00L\x00"  # internal marker for <br>


def looks_like_html(raw: str) -> bool:
    """True when the input carries markup; plain wire text keeps its own newlines."""
    return bool(_TAG_RE.search(raw))


def _walk(el: etree._Element, out: list[str]) -> None:
    tag = el.tag if isinstance(el.tag, str) else ""
    tag = tag.lower().rsplit("}", 1)[-1]
    if not tag or tag in DROP_TAGS:  # comments, processing instructions, scripts
        if el.tail:
            out.append(el.tail)
        return
    if tag == "br":
        out.append(_LINE_MARK)
    else:
        block = tag in BLOCK_TAGS
        if block:
            out.append(_PARA_MARK)
        if el.text:
            if tag == "pre":
                out.append(el.text.replace("\n", _LINE_MARK))
            else:
                out.append(el.text)
        for child in el:
            _walk(child, out)
        if block:
            out.append(_PARA_MARK)
    if el.tail:
        out.append(el.tail)


def html_to_paragraphs(raw: str) -> list[str]:
    """Parse an HTML fragment or page into raw (not yet normalised) paragraphs."""
    try:
        root = lxml_html.fragment_fromstring(raw, create_parent="div")
    except (etree.ParserError, ValueError):
        return text_to_paragraphs(raw)
    out: list[str] = []
    _walk(root, out)
    joined = "".join(out)
    has_structure = _PARA_MARK in joined.strip(_PARA_MARK) or _LINE_MARK in joined
    if not has_structure:
        # Markup without any block or <br>: blank lines in the source are the only breaks.
        joined = _BLANK_LINES_RE.sub(_PARA_MARK, joined)
    joined = joined.replace("\n", " ").replace(_LINE_MARK, _PARA_MARK)
    return [p for p in joined.split(_PARA_MARK) if p.strip()]


def _looks_hard_wrapped(lines: list[str]) -> bool:
    """Wire copy wrapped at a fixed width: every line but the last is long and none ends a sentence alone."""
    if len(lines) < 2 or (len(lines) == 2 and len(lines[1]) >= len(lines[0])):
        return False  # two lines, the second as long as the first: two lines, not one wrapped paragraph
    body = lines[:-1]
    return all(50 <= len(line) <= 80 for line in body) and not all(
        line.rstrip().endswith((".", '"', "\u201d", "?", "!")) for line in body
    )


def text_to_paragraphs(raw: str) -> list[str]:
    """Plain text: blank lines separate paragraphs; single newlines too, unless the block is hard-wrapped."""
    raw = _LINE_SEP_RE.sub("\n", raw)
    paragraphs: list[str] = []
    for block in _BLANK_LINES_RE.split(raw):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        if _looks_hard_wrapped(lines):
            paragraphs.append(" ".join(lines))
        else:
            paragraphs.extend(lines)
    return paragraphs


def normalise_text(text: str) -> str:
    """One paragraph (or line): repair, unescape, NFC, controls out, spaces collapsed."""
    if "&" in text and _ENTITY_RE.search(text):
        text = html.unescape(text)  # entities left escaped once more (double-encoded feeds)
    if text.isascii():  # the common case: nothing to repair or compose, only spacing and controls
        if not text.isprintable():
            text = _C0_RE.sub(" ", text)
        return " ".join(text.split())
    text = _C0_RE.sub(" ", text)
    if _MOJIBAKE_HINT_RE.search(text):
        text = ftfy.fix_text(text, config=_FTFY)
    text = _C1_RE.sub(" ", text)
    text = _INVISIBLE_RE.sub("", text)
    text = _SPACE_RE.sub(" ", text)
    text = _LINE_SEP_RE.sub(" ", text).replace("\n", " ")
    text = _MULTISPACE_RE.sub(" ", text)
    return unicodedata.normalize("NFC", text.strip())


def to_paragraphs(raw: str) -> list[str]:
    """HTML or plain text to a list of normalised, non-empty paragraphs."""
    if not raw:
        return []
    if "\x1f" in raw or "\x02" in raw or "\x03" in raw:
        # ANPA/IPTC framing: STX starts the text, ETX ends it, unit separators act as line breaks.
        raw = raw.replace("\x02", "\n").replace("\x03", "\n").replace("\x1f", "\n").replace("\x1e", "\n")
    parts = html_to_paragraphs(raw) if looks_like_html(raw) else text_to_paragraphs(raw)
    paragraphs = [normalise_text(p) for p in parts]
    return [p for p in paragraphs if p]
