"""End to end: one story carried by several sample feeds and by a feed added for a second run.

The demo's sample feeds carry Xinhua's Kenya drought story three times (Xinhua, the China portal's copy,
the Daily Globe's under a new headline); a second run adds a feed with a later copy and a look-alike on
the same topic and dateline. Every copy shares one story.id across feeds and runs; the look-alike and the
other sample stories keep their own; `wirenews search --stories` shows the story once, with its copies.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.e2e.test_e2e import all_docs, wirenews, write_config
from tests.loopback import Route

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

LATE_FEED = Path(__file__).resolve().parents[1] / "stories" / "data" / "late-portal.xml"
ORIGINAL = "xinhua-en-20261128-0051"
FIRST_RUN_COPIES = {ORIGINAL, "http://english.chinaportal.example.net/world/2026-11/28/content_40113502.htm",
                    "dailyglobe-world-58240"}
LATE_COPY, LOOK_ALIKE = "metrotimes-africa-90412", "metrotimes-africa-90530"


def test_copies_over_feeds_and_runs_share_one_story_and_look_alikes_stay_apart(tmp_path, feed_server, es_settings,
                                                                                 es_client):
    alias = es_settings.index
    cfg = write_config(tmp_path, es_settings.hosts[0], alias, feed_server.port)
    first = wirenews("run", "-c", str(cfg))
    assert first.returncode == 0, first.stdout + first.stderr
    docs = {d["guid"]: d for d in all_docs(es_client, alias)}
    story_id = docs[ORIGINAL]["story"]["id"]
    assert {g for g, d in docs.items() if d["story"]["id"] == story_id} == FIRST_RUN_COPIES
    assert len({d["story"]["id"] for d in docs.values()}) == len(docs) - 2  # every other story is its own
    assert docs[ORIGINAL]["story"]["first"] and story_id == docs[ORIGINAL]["_id"]
    assert all(docs[g]["story"]["first_source"] == docs[ORIGINAL]["source"]["name"] for g in FIRST_RUN_COPIES)

    # A second run: a feed appears with a later copy and a look-alike; the sample feeds are unchanged.
    feed_server.routes["/late-portal.xml"] = Route(body=LATE_FEED.read_bytes(),
                                                   headers={"Content-Type": "application/rss+xml"})
    raw = yaml.safe_load(cfg.read_text())
    raw["feeds"].append({"name": "metrotimes-africa", "url": feed_server.url("late-portal.xml")})
    cfg.write_text(yaml.safe_dump(raw))
    second = wirenews("run", "-c", str(cfg), "--summary-json", str(tmp_path / "s2.json"))
    assert second.returncode == 0, second.stdout + second.stderr
    assert json.loads((tmp_path / "s2.json").read_text())["articles"]["new"] == 2
    docs = {d["guid"]: d for d in all_docs(es_client, alias)}
    assert docs[LATE_COPY]["story"]["id"] == story_id and not docs[LATE_COPY]["story"]["first"]
    assert docs[LOOK_ALIKE]["story"]["id"] == docs[LOOK_ALIKE]["_id"] != story_id

    es_client.indices.refresh(index=f"{alias}-stories")
    story = es_client.get(index=f"{alias}-stories", id=story_id)["_source"]
    assert story["story"]["copies"] == 4 and story["title"] == docs[ORIGINAL]["title"]

    found = wirenews("search", "-c", str(cfg), "--stories", "Ruto drought")
    assert found.returncode == 0, found.stderr
    assert f"story {story_id}: 4 copies (4 matching)" in found.stdout, found.stdout
    assert found.stdout.count(f"story {story_id}:") == 1
    assert "2 stories (5 article(s))" in found.stdout, found.stdout
    plain = wirenews("search", "-c", str(cfg), "Ruto drought")
    assert "5 article(s)" in plain.stdout
