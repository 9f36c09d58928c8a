"""NewsML-G2: messages of several items, packages counted, versions, status, every field apart from the text."""

from __future__ import annotations

from transforms.sources.formats import read_wire

NS = 'xmlns="http://iptc.org/std/nar/2006-10-01/"'


def test_a_message_gives_each_text_item_and_counts_its_package(sample):
    result = sample("g2-reuters-message.xml")
    assert result.error_kind is None
    assert [i.guid.rsplit("_", 1)[-1] for i in result.items] == ["L4N3MKT01", "L8N3EUF02", "L1N3VAR03"]
    assert result.packages == 1


def test_fields_go_to_fields(sample):
    markets, eu, variety = sample("g2-reuters-message.xml").items
    assert markets.headline == "GLOBAL MARKETS-Asian shares edge up as yen steadies"
    assert markets.version == 1 and markets.status == "usable"
    assert markets.version_created == "2026-03-04T03:10:55Z"
    assert markets.urgency == 3
    assert markets.slugline == "GLOBAL-MARKETS/"
    assert markets.service == "Global Markets Forum"
    assert markets.agency == "reuters"
    assert markets.byline == ["Wei Tan"]
    assert markets.dateline == {"location": "TOKYO", "date_text": "March 4"}
    assert markets.keywords == ["Asian shares", "yen"]
    assert markets.rights == {"holder": "Reuters", "notice": "(c) Copyright Thomson Reuters 2026. All rights reserved.",
                              "usage": "Subscriber use only. Not for redistribution."}
    assert markets.word_count == 178
    # A code the item names keeps its name, one it does not is named from configs/iptc-subjects.yaml.
    assert [(s["scheme"], s["code"], s["name"]) for s in markets.subjects] == [
        ("subj", "04000000", "economy, business and finance"),
        ("subj", "04006000", "financial and business service"),
        ("N2", "STX", "Stock Markets"),
    ]
    assert eu.editorial_note == "Adds quote from Belgian energy minister in paragraph 4"
    assert eu.byline == ["Marta Lindqvist", "Tomas Berger"]
    assert variety.rights["holder"] == "Variety Media LLC"
    assert variety.dateline == {"location": "LOS ANGELES", "date_text": None}


def test_the_body_is_the_text_alone(sample):
    markets = sample("g2-reuters-message.xml").items[0]
    assert markets.body_html.startswith("<p>TOKYO, March 4 (Reuters) - Asian shares edged higher")
    assert "<xhtml" not in markets.body_html and "xmlns" not in markets.body_html
    for field in ("Global Markets Forum", "Subscriber use only", "GLOBAL-MARKETS/"):
        assert field not in markets.body_html


def test_a_later_version_shares_the_guid_and_outranks(sample):
    v1 = sample("g2-reuters-message.xml").items[0]
    v2 = sample("g2-reuters-markets-v2.xml").items[0]
    late = sample("g2-reuters-markets-v1-late.xml").items[0]
    assert v1.guid == v2.guid == late.guid
    assert v2.version == 2 and v2.take == "UPDATE 1"
    assert v2.headline == "GLOBAL MARKETS-Asian shares edge up, yen firm before U.S. data"
    assert v2.version_key > v1.version_key == late.version_key


def test_a_canceled_item_is_withdrawn_and_newer(sample):
    story = sample("g2-afp-sport.xml").items[0]
    cancel = sample("g2-afp-sport-cancel.xml").items[0]
    assert cancel.guid == story.guid
    assert cancel.status == "canceled" and cancel.withdrawn and not story.withdrawn
    assert cancel.version_key > story.version_key
    assert cancel.editorial_note.startswith("Please withdraw this story")


def test_a_package_without_items_is_a_named_error(sample):
    result = sample("g2-package-no-items.xml")
    assert result.error_kind == "package_without_items" and not result.items
    assert "pkg_EMPTY_0304" in result.error


def _item(item_class: str, status: str = "usable", body: str = "<p>Text.</p>") -> str:
    return (f'<newsItem {NS} guid="urn:x:{item_class}" version="3"><itemMeta><itemClass qcode="ninat:{item_class}"/>'
            f'<versionCreated>2026-03-04T10:00:00+01:00</versionCreated><pubStatus qcode="stat:{status}"/>'
            f'</itemMeta><contentMeta><headline>H {item_class}</headline></contentMeta><contentSet>'
            f'<inlineXML contenttype="application/xhtml+xml"><html xmlns="http://www.w3.org/1999/xhtml"><body>'
            f'{body}</body></html></inlineXML></contentSet></newsItem>')


def test_pictures_are_skipped_and_withheld_items_read():
    message = (f'<newsMessage {NS}><header><sent>2026-03-04T09:00:00Z</sent></header><itemSet>'
               + _item("text", "withheld") + _item("picture") + '</itemSet></newsMessage>').encode()
    result = read_wire(message, "m.xml")
    assert len(result.items) == 1 and result.skipped["non_text"] == 1
    assert result.items[0].status == "withheld" and result.items[0].withdrawn
    assert result.items[0].version_created == "2026-03-04T09:00:00Z"


def test_an_empty_message_is_a_named_error():
    result = read_wire(f'<newsMessage {NS}><header/><itemSet/></newsMessage>'.encode(), "m.xml")
    assert result.error_kind == "empty"


def test_plain_text_content_keeps_its_paragraphs():
    body = (f'<newsItem {NS} guid="urn:x:1" version="1"><itemMeta><itemClass qcode="ninat:text"/></itemMeta>'
            '<contentMeta><headline>H</headline></contentMeta><contentSet><inlineData contenttype="text/plain">'
            'First paragraph\nwrapped.\n\nSecond &amp; last.</inlineData></contentSet></newsItem>').encode()
    assert read_wire(body, "x").items[0].body_html == "<p>First paragraph wrapped.</p><p>Second &amp; last.</p>"
