"""Wire items as Articles: text for the clean stage, fields in ``wire``, one document per story."""

from __future__ import annotations

from datetime import datetime, timezone

from transforms.article import FeedSpec
from transforms.sources.formats import newest_versions, to_article

NOW = datetime(2026, 3, 5, 12, 0, tzinfo=timezone.utc)
FEED = FeedSpec(name="wire-drop", url="/srv/wire/*")


def test_an_item_becomes_an_article_with_its_fields(sample):
    item = sample("g2-reuters-markets-v2.xml").items[0]
    art = to_article(item, FEED, "/srv/wire/g2-reuters-markets-v2.xml", NOW)
    assert art.title == item.headline and art.content_html == item.body_html
    assert art.guid == "tag:example-reuters.com,2026:newsml_L4N3MKT01"
    assert art.published_at == "2026-03-04T03:10:55Z" and art.updated_at == "2026-03-04T04:31:20Z"
    assert art.date_source == "published" and art.first_seen_at == "2026-03-05T12:00:00Z"
    assert art.agency == "reuters" and art.authors == ["Wei Tan"] and art.language_hint == "en"
    assert art.dateline == {"location": "TOKYO", "date_text": "March 4"}
    assert art.wire["version"] == 2 and art.wire["status"] == "usable" and not art.withdrawn
    assert art.wire["version_keys"] == [item.version_key]
    assert art.wire["service"] == "Global Markets Forum" and art.wire["priority"] == 3
    assert art.wire["rights"]["usage"] == "Subscriber use only. Not for redistribution."
    assert art.source_domain == "" and art.feed_name == "wire-drop"


def test_every_version_of_a_story_has_one_id(sample):
    feed = FeedSpec(name="a", url="x")
    other = FeedSpec(name="b", url="y", agency="reuters")
    v1 = to_article(sample("g2-reuters-message.xml").items[0], feed, "x", NOW)
    v2 = to_article(sample("g2-reuters-markets-v2.xml").items[0], other, "y", NOW)
    assert v1.id == v2.id


def test_the_feed_agency_wins_over_the_item(sample):
    art = to_article(sample("nitf-aap.xml").items[0], FeedSpec(name="a", url="x", agency="aap-sport"), "x", NOW)
    assert art.agency == "aap-sport"


def test_a_kill_is_withdrawn(sample):
    art = to_article(sample("anpa-ap-storm-kill.anpa").items[0], FEED, "x", NOW)
    assert art.withdrawn and art.title == "BC-US--Severe Weather-Texas"  # no headline: the slug stands in


def test_newest_versions_keeps_the_newest_and_remembers_the_others(sample):
    arts = [to_article(i, FEED, "x", NOW) for name in ("anpa-ap-ethanol-1stld.anpa", "anpa-ap-storm.anpa",
                                                         "anpa-ap-ethanol.anpa") for i in sample(name).items]
    kept, dropped = newest_versions(arts)
    assert dropped == 1 and [a.wire["take"] for a in kept] == ["1st Ld-Writethru", None]
    assert len(kept[0].wire["version_keys"]) == 2 and kept[0].wire["version_key"] == max(kept[0].wire["version_keys"])
