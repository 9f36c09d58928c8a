"""AP Media API JSON: metadata items; items whose text is only a rendition to download are counted."""

from __future__ import annotations

import json

import pytest

from tests.sources.formats.conftest import REPO
from transforms.sources.formats import read_wire


def test_feed_items(sample):
    result = sample("apjson-feed.json")
    assert result.skipped["non_text"] == 1
    game, crab = result.items
    assert game.guid == "ap:4a1b2c3d4e5f60718293a4b5c6d7e8f9" and game.version == 1
    assert game.headline.startswith("Hale scores 38") and game.summary.startswith("Marcus Hale scored 38")
    assert game.byline == ["Kevin Doyle"] and game.dateline == {"location": "Boston", "date_text": None}
    assert game.urgency == 3 and game.category == "s"  # the ANPA category travels as a subject with rel "category"
    assert ("ap", "NBA basketball") in [(s["scheme"], s["name"]) for s in game.subjects]
    assert game.editorial_note == "Eds: Updates with details. Will be updated."
    assert game.rights["usage"].startswith("This content is intended for editorial use only")
    assert crab.rights["usage"] is None


def test_items_with_only_a_rendition_are_counted_not_read():
    doc = {"api_version": "2", "data": {"item": {"altids": {"itemid": "abc"}, "type": "text", "headline": "H",
                                                 "renditions": {"nitf": {"href": "https://x.example/nitf"}}}}}
    result = read_wire(json.dumps(doc).encode(), "x.json")
    assert not result.items and result.skipped["rendition_only"] == 1 and result.error_kind is None


def test_the_real_media_api_answer_counts_its_items():
    path = REPO.parent / "shared" / "corpora" / "feeds" / "ap" / "ap_media_api_feed.json"
    if not path.exists():
        pytest.skip("../shared/corpora is not here (it is not shipped with the project)")
    result = read_wire(path.read_bytes(), str(path))
    assert result.format == "ap-json" and result.skipped["rendition_only"] == 3 and not result.items
