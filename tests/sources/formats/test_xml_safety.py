"""Wire XML goes through the DTD screen and a parser that never loads, fetches or expands anything unsafe."""

from __future__ import annotations

import pytest

from transforms.sources.formats import read_wire

ITEM = ('<nitf><head><docdata><doc-id id-string="X1"/></docdata></head><body><body.head><hedline>'
        '<hl1>{title}</hl1></hedline></body.head><body.content><p>Text.</p></body.content></body></nitf>')


def _doc(subset: str, title: str) -> bytes:
    return f'<?xml version="1.0"?>\n<!DOCTYPE nitf [{subset}]>\n{ITEM.format(title=title)}'.encode()


@pytest.mark.parametrize("subset, title", [
    ('<!ENTITY x SYSTEM "file:///etc/passwd">', "&x;"),
    ('<!ENTITY x SYSTEM "http://127.0.0.1:9/dtd">', "&x;"),
    ('<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">', "&b;"),
])
def test_hostile_doctypes_are_refused_by_name(subset: str, title: str):
    result = read_wire(_doc(subset, title), "evil.xml")
    assert result.error_kind == "unsafe_dtd" and not result.items


def test_a_safe_internal_entity_is_expanded():
    result = read_wire(_doc('<!ENTITY co "Example Co">', "&co; results"), "ok.xml")
    assert result.items[0].headline == "Example Co results"


def test_an_external_dtd_is_never_loaded():
    body = ('<?xml version="1.0"?><!DOCTYPE nitf SYSTEM "http://127.0.0.1:9/nitf.dtd">'
            + ITEM.format(title="Plain")).encode()
    assert read_wire(body, "dtd.xml").items[0].headline == "Plain"


def test_truncated_and_wrongly_encoded_files_are_named(sample):
    truncated = sample("nitf-truncated.xml")
    assert truncated.error_kind == "xml" and "Premature end of data" in truncated.error
    charset = sample("nitf-wrong-charset.xml")
    assert charset.error_kind == "charset" and "encoding" in charset.error
