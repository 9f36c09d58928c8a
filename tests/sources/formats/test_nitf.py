"""NITF: identity and versions from doc-id and du-key, urgency, subjects, ANPA meta, rights, dateline element."""

from __future__ import annotations


def test_aap_story_fields(sample):
    item = sample("nitf-aap.xml").items[0]
    assert item.guid == "aap:AAP.20260304.0412" and item.ordered_by == "time"
    assert item.headline == "Reserve Bank keeps cash rate on hold, flags slower rent growth"
    assert item.byline == ["Marnie Kellett"]
    assert item.dateline == {"location": "SYDNEY", "date_text": "March 4, 2026"}
    assert item.urgency == 3 and item.category == "f" and item.slugline == "Economy RBA"
    assert [(s["code"], s["name"]) for s in item.subjects] == [("04008001", "central bank"),
                                                               ("04008000", "macro economics")]
    assert item.keywords == ["interest rates", "Reserve Bank"]
    assert item.rights["holder"] == "Australian Associated Press"
    assert "No deep linking" in item.rights["usage"]
    assert item.version_created == "2026-03-04T03:32:00Z"
    assert item.body_html.startswith("<p>The Reserve Bank has kept") and "AAP RTV jk" in item.body_html


def test_du_key_versions_and_editors_notes(sample):
    first = sample("nitf-ap-council.xml").items[0]
    fixed = sample("nitf-ap-council-correction.xml").items[0]
    assert first.guid == fixed.guid == "ap:US--Phoenix-Water Recycling"
    assert (first.version, fixed.version) == (1, 2) and fixed.version_key > first.version_key
    assert first.editorial_note == "Eds: APNewsNow. Will be updated."
    assert fixed.editorial_note.startswith("Eds: Corrects vote count")
    assert first.byline == ["Marisol Reyes"]  # the title byline ("Associated Press") is not a name
    assert first.summary == "Phoenix will turn treated sewage into drinking water by 2030"


def test_an_embargo_note_and_a_service(sample):
    item = sample("nitf-pa.xml").items[0]
    assert item.service == "PA Home News" and item.agency == "pa"
    assert item.byline == ["Alan Hewitt"]
    assert item.editorial_note.startswith("Embargoed until")
