"""Parsing wire XML safely, and reading elements whatever their namespace.

Every XML reader parses through ``parse_xml``: the DOCTYPE screen the feed parser uses runs first (external,
nested and oversized entities are refused before lxml sees a byte), then lxml reads with the network off, no
DTD loaded, only the internal entities the screen let through expanded, and the huge-tree limits on. An
ill-formed or truncated document, or one whose bytes do not match its declared encoding, is a ``WireError``
naming the problem and where it was found.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from transforms.parse import UnsafeDtd, screen_dtd
from transforms.sources.formats.base import WireError, clean

_ENCODING_ERRORS = ("not proper utf-8", "encoding error", "unsupported encoding", "invalid byte", "bytes:",
                    "document labelled utf-16 but has utf-8 content", "char 0x0 out of allowed range")
_TRUNCATED = ("premature end of data", "eof", "extra content", "end tag", "not closed", "couldn't find end")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities="internal", no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True, remove_pis=True, strip_cdata=True)


def parse_xml(body: bytes) -> etree._Element:
    """The root element of ``body``; WireError("unsafe_dtd" | "charset" | "xml") when it cannot be read."""
    try:
        body = screen_dtd(body)
    except UnsafeDtd as e:
        raise WireError("unsafe_dtd", f"unsafe DTD: {e}") from e
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as e:
        message = str(e.msg if hasattr(e, "msg") and e.msg else e)
        where = f" (line {e.lineno})" if getattr(e, "lineno", None) else ""
        low = message.lower()
        if any(k in low for k in _ENCODING_ERRORS):
            raise WireError("charset", f"bytes do not match the declared encoding: {message}{where}") from e
        if any(k in low for k in _TRUNCATED):
            raise WireError("xml", f"truncated or ill-formed XML: {message}{where}") from e
        raise WireError("xml", f"ill-formed XML: {message}{where}") from e
    except ValueError as e:  # lxml refuses str input with a declaration, and a few odd inputs
        raise WireError("xml", f"not XML: {e}") from e
    if root is None:
        raise WireError("xml", "no root element")
    return root


def local(el: etree._Element) -> str:
    """The element's name without its namespace ("" for comments and the like)."""
    tag = el.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def children(el: etree._Element | None, *names: str) -> Iterator[etree._Element]:
    """Child elements with one of these local names (any name when none is given), in document order."""
    if el is None:
        return iter(())
    return (c for c in el if isinstance(c.tag, str) and (not names or local(c) in names))


def child(el: etree._Element | None, *path: str) -> etree._Element | None:
    """The first element down ``path`` (local names), or None."""
    for name in path:
        el = next(children(el, name), None)
        if el is None:
            return None
    return el


def descendants(el: etree._Element | None, *names: str) -> Iterator[etree._Element]:
    if el is None:
        return iter(())
    return (d for d in el.iter() if isinstance(d.tag, str) and local(d) in names)


def text(el: etree._Element | None, *path: str) -> str:
    """All the text under the element down ``path``, whitespace collapsed; "" when it is missing."""
    target = child(el, *path) if path else el
    return clean("".join(target.itertext())) if target is not None else ""


def attr(el: etree._Element | None, name: str, *path: str) -> str:
    target = child(el, *path) if path else el
    return clean(target.get(name)) if target is not None else ""


def inner_html(el: etree._Element) -> str:
    """The element's content as HTML, namespaces dropped (XHTML, NITF and NewsML markup alike)."""
    copy = etree.fromstring(etree.tostring(el), _parser())
    for node in copy.iter():
        if isinstance(node.tag, str):
            node.tag = local(node)
            for key in list(node.attrib):
                if key.startswith("{"):
                    del node.attrib[key]
    etree.cleanup_namespaces(copy)
    parts = [copy.text or ""]
    parts += [etree.tostring(c, method="html", encoding="unicode", with_tail=True) for c in copy]
    return "".join(parts).strip()
