"""ninjs 1.x and 2.x, and dpa digitalwires entries."""

from __future__ import annotations

import json

from transforms.sources.formats import read_wire


def test_ninjs_2(sample):
    item = sample("ninjs-ntb.json").items[0]
    assert item.headline == "Norway to cap winter power prices for households in the south"
    assert item.version == 3 and item.version_created == "2026-03-04T09:40:31Z"
    assert item.agency == "ntb" and item.byline == []  # "NTB" is the agency, not a person
    assert item.slugline == "norway-power-prices" and item.urgency == 4
    assert item.summary.startswith("The government will cover 80 per cent")
    assert item.editorial_note == "Updated with comment from the energy minister."
    assert item.rights["usage"] == "For use by NTB subscribers only."
    assert ("04005000", "energy and resource") in [(s["code"], s["name"]) for s in item.subjects]
    assert item.dateline == {"location": "Oslo", "date_text": None}


def test_ninjs_1_and_its_cancellation(sample):
    story = sample("ninjs-stt-v1.json").items[0]
    cancel = sample("ninjs-stt-v2-canceled.json").items[0]
    assert story.guid == cancel.guid and story.agency == cancel.agency == "stt"
    assert story.keywords == ["retail", "layoffs"]
    assert [s["name"] for s in story.subjects] == ["company information", "layoffs and downsizing"]
    assert cancel.status == "canceled" and cancel.version_key > story.version_key


def test_digitalwires_entries(sample):
    result = sample("ninjs-dpa-digitalwires.json")
    wind, football = result.items
    assert wind.guid.endswith("260304-99-311201") and wind.version == 2
    assert wind.service == "Politics" and wind.keywords == ["wind power", "Germany"]
    assert wind.byline == ["Jonas Reiter"] and wind.summary.startswith("Permits for onshore")
    assert wind.editorial_note == "Adds industry reaction." and wind.agency == "dpa"
    assert [(s["code"], s["name"]) for s in football.subjects] == [("15054000", "soccer")]


def test_non_text_items_and_lists():
    doc = [{"uri": "urn:x:1", "type": "picture", "headline": "A photo"},
           {"uri": "urn:x:2", "type": "text", "headline": "A story", "body_text": "One.\n\nTwo."}]
    result = read_wire(json.dumps(doc).encode(), "x.json")
    assert result.skipped["non_text"] == 1
    assert result.items[0].body_html == "<p>One.</p><p>Two.</p>"


def test_bad_json_is_named():
    assert read_wire(b'{"uri": "urn:x", "headline": ', "x.json", format="ninjs").error_kind == "json"
