"""The safety screen every XML body passes before a parser sees it.

``screen_dtd`` reads the DOCTYPE's internal subset itself: an entity that is external (SYSTEM/PUBLIC),
built from other entities (billion laughs), or whose expansions would multiply the body (quadratic
blowup) makes the body fail as ``unsafe_dtd``; parameter entities are dropped unread. feedparser's own
DOCTYPE stripping misses declarations that do not start a line, and Python's expat stops an entity bomb
only after seconds and hundreds of megabytes, so neither is relied on. Nothing in a body is ever
fetched: external entities are off, and a DTD is never loaded.
"""

from __future__ import annotations

import re

MAX_ENTITY_VALUE = 1024  # characters in one internal entity's replacement text
MAX_ENTITY_GROWTH = 1_000_000  # characters entity references may add to a body, beyond its own size


class UnsafeDtd(ValueError):
    """A DOCTYPE that declares entities we will not expand (external, nested, or too large in total)."""


_BOMS = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"),
         (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"))
_NO_BOM_WIDE = ((b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
                (b"\x00<\x00", "utf-16-be"), (b"<\x00?\x00", "utf-16-le"), (b"<\x00!\x00", "utf-16-le"))
_NAME = re.compile(r"[^\s\[>\"']+")
_CHAR_REF = re.compile(r"&#(?:[0-9]+|x[0-9a-fA-F]+);")


def screen_dtd(body: bytes) -> bytes:
    """``body`` with its DOCTYPE reduced to safe internal entities; raises UnsafeDtd for a hostile one.

    Works on the text as the XML declaration and BOM encode it: ASCII-compatible bytes are read as
    Latin-1 (a byte-exact round trip that never touches non-ASCII bytes), UTF-16 and UTF-32 decoded and
    encoded back the same way. A DOCTYPE without an internal subset is left alone (expat never loads
    the external DTD it names).
    """
    codec, bom = "latin-1", b""
    for mark, name in _BOMS:
        if body.startswith(mark):
            codec, bom = name, mark
            break
    else:
        for probe, name in _NO_BOM_WIDE:
            if body.startswith(probe):
                codec = name
                break
    try:
        text = body[len(bom):].decode(codec)
    except UnicodeDecodeError:
        return body  # not the encoding it looks like: expat will refuse it, with external entities off
    start = _doctype_start(text)
    if start is None:
        return body
    end, subset_start, subset_end = _doctype_end(text, start)
    if subset_start is None:
        return body
    header = text[start + len("<!DOCTYPE"):subset_start]
    name_match = _NAME.search(header)
    root = name_match.group(0) if name_match else "feed"
    entities = _safe_entities(text[subset_start:subset_end], text[end:])
    decls = "".join(f'\n<!ENTITY {n} "{v}">' for n, v in entities)
    replacement = f"\n<!DOCTYPE {root} [{decls}\n]>\n" if decls else f"\n<!DOCTYPE {root}>\n"
    return bom + (text[:start] + replacement + text[end:]).encode(codec)


def _doctype_start(text: str) -> int | None:
    """Where the DOCTYPE starts, if it comes in the prolog (before the root element)."""
    i = 0
    n = len(text)
    while i < n:
        if text[i] in " \t\r\n\ufeff":
            i += 1
        elif text.startswith("<?", i):
            j = text.find("?>", i + 2)
            i = n if j < 0 else j + 2
        elif text.startswith("<!--", i):
            j = text.find("-->", i + 4)
            i = n if j < 0 else j + 3
        elif text[i:i + 9].upper() == "<!DOCTYPE":
            return i
        else:
            return None
    return None


def _doctype_end(text: str, start: int) -> tuple[int, int | None, int | None]:
    """(end of the DOCTYPE, start and end of its internal subset or None); quotes and comments respected."""
    i = start + len("<!DOCTYPE")
    n = len(text)
    quote = ""
    subset_start = subset_end = None
    while i < n:
        c = text[i]
        if quote:
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif subset_start is not None and subset_end is None and text.startswith("<!--", i):
            j = text.find("-->", i + 4)
            if j < 0:
                break
            i = j + 3
            continue
        elif c == "[" and subset_start is None:
            subset_start = i + 1
        elif c == "]" and subset_start is not None and subset_end is None:
            subset_end = i
        elif c == ">" and (subset_start is None or subset_end is not None):
            return i + 1, subset_start, subset_end
        i += 1
    raise UnsafeDtd("the DOCTYPE never ends")


_DECL = re.compile(r"<!(ENTITY|ATTLIST|ELEMENT|NOTATION)\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)


def _safe_entities(subset: str, rest: str) -> list[tuple[str, str]]:
    """The internal general entities worth keeping; UnsafeDtd when one of them is hostile."""
    subset = _COMMENT.sub("", subset)
    kept: list[tuple[str, str]] = []
    for kind, decl in _DECL.findall(subset):
        if kind != "ENTITY":
            continue  # element and attribute declarations: nothing to expand
        parts = decl.strip()
        if parts.startswith("%"):
            continue  # a parameter entity: dropped with its references, never loaded
        m = re.match(r"([^\s\"']+)\s+(.*)$", parts, re.S)
        if not m:
            raise UnsafeDtd(f"an entity declaration we cannot read: <!ENTITY{decl[:80]}>")
        name, spec = m.group(1), m.group(2).strip()
        if spec.upper().startswith(("SYSTEM", "PUBLIC")):
            raise UnsafeDtd(f"external entity {name!r} ({spec[:120]})")
        value_m = re.fullmatch(r"\"([^\"]*)\"|'([^']*)'", spec, re.S)
        if not value_m:
            raise UnsafeDtd(f"an entity declaration we cannot read: {name!r}")
        value = value_m.group(1) if value_m.group(1) is not None else value_m.group(2)
        if ("&" in _CHAR_REF.sub("", value) or "%" in value) and not _CHAR_REF.fullmatch(value):
            raise UnsafeDtd(f"entity {name!r} is built from other entities (an expansion bomb)")
        if len(value) > MAX_ENTITY_VALUE:
            raise UnsafeDtd(f"entity {name!r} is {len(value)} characters long")
        if "<" in value:
            raise UnsafeDtd(f"entity {name!r} holds markup")
        kept.append((name, value.replace('"', "&#34;")))
    growth = sum(len(v) * rest.count(f"&{n};") for n, v in kept)
    if growth > len(rest) + MAX_ENTITY_GROWTH:
        raise UnsafeDtd(f"entity references would add {growth} characters to a body of {len(rest)}")
    return kept
