"""The wire readers by name, and which one a document needs, from its content.

Each reader module registers itself with ``register(name, sniff)``: ``sniff`` looks at a ``Sniff`` (the first
bytes, the XML root element or the JSON keys, computed once per document) and says whether the document is
in its format. Detection asks the readers in the order they registered; the first that claims the document
reads it. Anything no reader claims (RSS, Atom, JSON Feed, HTML) is left to the feed parser.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from transforms.sources.formats.base import ReadResult, WireError
from transforms.sources.formats.subjects import subject, unique

log = logging.getLogger(__name__)

ReadFn = Callable[[bytes, str], ReadResult]
HEAD_BYTES = 4096


@dataclass(frozen=True)
class Sniff:
    """What detection looks at: computed once per document, shared by every reader's ``sniff``."""

    kind: str  # xml | json | text | empty
    head: str  # the first bytes as Latin-1 text (byte-exact, never fails)
    root: str = ""  # XML: the root element's local name
    namespace: str = ""  # XML: the root element's default namespace
    json: object = None  # JSON: the parsed document


@dataclass(frozen=True)
class Reader:
    name: str
    read: ReadFn
    sniff: Callable[[Sniff], bool]


READERS: dict[str, Reader] = {}

_ROOT = re.compile(r"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)([^>]*)>?")
_XMLNS = re.compile(r"""\bxmlns\s*=\s*["']([^"']*)["']""")
_PROLOG = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^\[>]|\[.*?\])*>)", re.S | re.I)


def register(name: str, sniff: Callable[[Sniff], bool]) -> Callable[[ReadFn], ReadFn]:
    """Decorator: ``read`` becomes the reader of format ``name``, chosen when ``sniff`` says so."""

    def wrap(read: ReadFn) -> ReadFn:
        if name in READERS:
            raise ValueError(f"wire format {name!r} registered twice")
        READERS[name] = Reader(name, read, sniff)
        return read

    return wrap


def sniff(body: bytes) -> Sniff:
    head = body[:HEAD_BYTES]
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            if codec != "utf-8":
                head = body[len(bom):HEAD_BYTES * 2].decode(codec, "replace").encode("utf-8", "replace")
            else:
                head = head[len(bom):]
            break
    text = head.decode("latin-1")
    stripped = text.lstrip(" \t\r\n")
    if not stripped:
        return Sniff("empty", text)
    if stripped.startswith("<"):
        rest = text
        while True:
            m = _PROLOG.match(rest)
            if not m or not m.group(0).strip():
                break
            rest = rest[m.end():]
        m = _ROOT.match(rest.lstrip())
        if m:
            ns = _XMLNS.search(m.group(3) or "")
            return Sniff("xml", text, root=m.group(2), namespace=ns.group(1) if ns else "")
        return Sniff("xml", text)
    if stripped[0] in "{[":
        try:
            return Sniff("json", text, json=json.loads(body.decode("utf-8-sig")))
        except (UnicodeDecodeError, ValueError):
            return Sniff("text", text)
    return Sniff("text", text)


def detect(body: bytes, probe: Sniff | None = None) -> str | None:
    """The name of the wire format of ``body``, or None when it is not one (a feed, a page, anything else)."""
    probe = probe or sniff(body)
    for reader in READERS.values():
        try:
            if reader.sniff(probe):
                return reader.name
        except Exception:  # noqa: BLE001 - a sniffer's slip must not hide the other formats
            log.exception("wire format %s: detection failed", reader.name)
    return None


def read(body: bytes, source: str, format: str | None = None) -> ReadResult:
    """Every story of ``body`` by the reader ``format`` names (detected when None); never raises for bad input.

    A document no reader claims, or that its reader cannot read, comes back with ``error_kind`` set.
    """
    if format is not None and format not in READERS:
        raise ValueError(f"unknown wire format {format!r}; known: {', '.join(READERS)}")
    name = format or detect(body)
    if name is None:
        return ReadResult(None, error_kind="not_wire", error="not a wire format this reader knows")
    try:
        result = READERS[name].read(body, source)
    except WireError as e:
        log.info("%s: %s: %s", source, e.kind, e.message)
        return ReadResult(name, error_kind=e.kind, error=e.message)
    except Exception as e:  # noqa: BLE001 - a reader's bug must not stop the other files
        log.exception("%s: the %s reader failed", source, name)
        return ReadResult(name, error_kind="internal", error=f"the {name} reader failed: {type(e).__name__}: {e}")
    result.format = name
    for item in result.items:
        item.subjects = unique([subject(s.get("code"), s.get("name"), s.get("scheme")) for s in item.subjects])
        item.keywords = list(dict.fromkeys(k for k in item.keywords if k))
    if not result.items and not result.packages and not result.skipped:
        return ReadResult(name, error_kind="empty", error="no story in the document")
    return result
