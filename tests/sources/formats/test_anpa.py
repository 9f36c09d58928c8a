"""ANPA-1312: framing, heading codes, typesetting lines to fields, 7-bit conventions, versions and kills."""

from __future__ import annotations


def test_heading_and_typesetting_lines_become_fields(sample):
    item = sample("anpa-ap-ethanol-1stld.anpa").items[0]
    assert item.headline == "Study: Farmers plow up prairie as ethanol demand climbs"
    assert item.slugline == "BC-US--Ethanol-Losing Grassland" and item.take == "1st Ld-Writethru"
    assert item.version == 1 and item.word_count == 512
    assert item.byline == ["John Mercer"] and item.agency == "ap"
    assert item.urgency == 3 and item.category == "a" and item.service == "apn"
    assert item.editorial_note == "AP Photo NYAB101; Eds: UPDATES with comment from senator. With AP Photos."
    assert item.summary.startswith("Farmers across the northern Plains")
    assert item.version_created == "2026-03-04T17:11:00Z"


def test_the_body_has_no_framing_and_no_7_bit_stand_ins(sample):
    body = sample("anpa-ap-ethanol-1stld.anpa").items[0].body_html
    assert body.startswith("<p>DES MOINES, Iowa (AP) \u2014 Farmers across the northern Plains")
    assert "\u201cOnce that sod is broken, it doesn't come back in our lifetimes,\u201d" in body
    for furniture in ("^", "BC-US", "Eds:", "By JOHN", "AP-WF", "END<", "\x02", "\x03"):
        assert furniture not in body
    assert body.endswith("about half of North America's ducks.</p>")


def test_versions_share_the_story_and_order_by_time(sample):
    first = sample("anpa-ap-ethanol.anpa").items[0]
    writethru = sample("anpa-ap-ethanol-1stld.anpa").items[0]
    assert first.guid == writethru.guid == "anpa:ap:2026-03-04:us--ethanol-grassland"
    assert first.take is None and writethru.version_key > first.version_key


def test_a_kill_withdraws_the_story(sample):
    story = sample("anpa-ap-storm.anpa").items[0]
    kill = sample("anpa-ap-storm-kill.anpa").items[0]
    assert kill.guid == story.guid and kill.status == "canceled" and kill.take == "KILL"
    assert kill.urgency == 1 and kill.version_key > story.version_key
    assert "withdrawn because it gave the wrong county" in kill.editorial_note


def test_several_messages_in_one_file(sample):
    result = sample("anpa-ap-sports-briefs.anpa")
    assert [i.slugline for i in result.items] == ["BC-BBO--Twins-Pitcher", "BC-GLF--Players Championship Field"]
    assert all(i.category == "s" for i in result.items)


def test_hard_wrapped_copy_is_rejoined(sample):
    item = sample("anpa-kyodo.anpa").items[0]
    assert item.agency == "kyodo" and item.category == "i"
    paragraphs = item.body_html.split("</p><p>")
    assert len(paragraphs) == 5 and paragraphs[-1] == "==Kyodo</p>"
    assert "resume a high-level economic dialogue suspended for six years" in paragraphs[0]


def test_an_empty_message_is_a_named_error(sample):
    result = sample("anpa-empty-message.anpa")
    assert result.error_kind == "empty" and not result.items
