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

from transforms.sources.formats.base import WireError, clean
from transforms.sources.xmlscreen import UnsafeDtd, screen_dtd

_ENCODING_ERRORS = ("not proper utf-8", "encoding error", "unsupported encoding", "invalid byte", "bytes:",
                    "document labelled utf-16 but has utf-8 content", "char 0x0 out of allowed range")
_TRUNCATED = ("premature end of data", "eof", "extra content", "end tag", "not closed", "couldn't find end")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities="internal", no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True, remove_pis=True, strip_cdata=True)


def parse_xml(body: bytes) -> etree._Element:
    """The root element of ``body``, element names without their namespaces; WireError("unsafe_dtd" |
    "charset" | "xml") when it cannot be read.

    Wire formats mix namespaces freely (a NewsML-G2 item carries XHTML or NITF inline, agencies add their own),
    and no element name means two things within one format, so names are compared without them.
    """
    try:
        body = screen_dtd(body)
    except UnsafeDtd as e:
        raise WireError("unsafe_dtd", f"unsafe DTD: {e}") from e
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as e:
        message = str(e.msg if getattr(e, "msg", None) else e)
        low = message.lower()
        if any(k in low for k in _ENCODING_ERRORS):
            raise WireError("charset", f"bytes do not match the declared encoding: {message}") from e
        if any(k in low for k in _TRUNCATED):
            raise WireError("xml", f"truncated or ill-formed XML: {message}") from e
        raise WireError("xml", f"ill-formed XML: {message}") from e
    except ValueError as e:  # lxml refuses a few odd inputs this way
        raise WireError("xml", f"not XML: {e}") from e
    if root is None:
        raise WireError("xml", "no root element")
    for el in root.iter():
        tag = el.tag
        if isinstance(tag, str) and tag[0] == "{":
            el.tag = tag.split("}", 1)[1]
    etree.cleanup_namespaces(root)
    return root


def local(el: etree._Element) -> str:
    """The element's name ("" for comments and the like)."""
    return el.tag if isinstance(el.tag, str) else ""


def children(el: etree._Element | None, *names: str) -> Iterator[etree._Element]:
    """Child elements with one of these names (any element when none is given), in document order."""
    if el is None:
        return iter(())
    return el.iterchildren(*names) if names else el.iterchildren(etree.Element)


def child(el: etree._Element | None, *path: str) -> etree._Element | None:
    """The first element down ``path``, or None."""
    return el.find("/".join(path)) if el is not None else None


def descendants(el: etree._Element | None, *names: str) -> Iterator[etree._Element]:
    if el is None:
        return iter(())
    return el.iter(*names)


def text(el: etree._Element | None, *path: str) -> str:
    """All the text under the element down ``path``, whitespace collapsed; "" when it is missing."""
    target = child(el, *path) if path else el
    return clean("".join(target.itertext())) if target is not None else ""


def attr(el: etree._Element | None, name: str, *path: str) -> str:
    target = child(el, *path) if path else el
    return clean(target.get(name)) if target is not None else ""


def inner_html(el: etree._Element) -> str:
    """The element's content as HTML (its children serialised; namespaces are already gone)."""
    parts = [el.text or ""]
    parts += [etree.tostring(c, method="html", encoding="unicode", with_tail=True) for c in el]
    return "".join(parts).strip()
