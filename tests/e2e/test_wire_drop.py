"""End to end: an agency drop folder in every wire format, read by `wirenews run` twice and by `wirenews stream`.

Every story is indexed once with its metadata in fields and a clean body; a later version updates the story's
document and counts, a kill withdraws it, an older version arriving late leaves it alone; bad files are named
errors and the rest of the folder still goes in (samples/wire-expected.yaml says what each story must become).
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.e2e.test_e2e import wirenews

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

WIRE = REPO / "samples" / "wire"
LATE = REPO / "samples" / "wire-late"
EXPECTED = yaml.safe_load((REPO / "samples" / "wire-expected.yaml").read_text(encoding="utf-8"))


def drop_config(tmp_path: Path, es_settings, drop: Path, poll: int = 60) -> Path:
    cfg = {"elasticsearch": {"hosts": es_settings.hosts, "index": es_settings.index},
           "feeds": [{"name": "wire-drop", "url": str(drop / "*.*"), "poll_interval": poll}]}
    path = tmp_path / "wire.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def docs_by_guid(es_client, alias: str) -> dict[str, dict]:
    es = es_client.options(ignore_status=404)
    es.indices.refresh(index=alias)
    hits = es.search(index=alias, size=500, query={"match_all": {}}).get("hits", {}).get("hits", [])
    return {h["_source"]["guid"]: h["_source"] for h in hits}


def check_story(story: dict, doc: dict, run: str) -> None:
    guid = story["guid"]
    state = story[run]
    wire = doc["wire"]
    assert wire["format"] == story["format"], guid
    assert doc["agency"] == story["agency"], guid
    assert wire["status"] == state["status"] and doc["withdrawn"] == (state["status"] != "usable"), guid
    assert wire["versions"] == state["versions"], (guid, wire["versions"], wire["version_keys"])
    if state["status"] != "usable":
        return  # a kill's own words are not the story
    body = doc["body"]
    assert doc["title"] == story["title"], (guid, doc["title"])
    assert doc["dateline"] == story["dateline"], (guid, doc["dateline"])
    first = state.get("first") or story["first"]
    assert body.startswith(first), (guid, body[:120])
    if story.get("last"):
        assert body.rstrip().endswith(story["last"]), (guid, body[-120:])
    for junk in story["absent"]:
        assert junk not in body, (guid, junk)
    if state.get("contains"):
        assert state["contains"] in body, guid
    if run == "run2" and story["run2"] != story["run1"]:
        return  # the wire fields listed are those of the first run's version
    for key, value in story["wire"].items():
        if key == "subject_codes":
            assert [s["code"] for s in wire["subjects"]] == value, guid
        else:
            assert wire[key] == value, (guid, key, wire[key])


def test_a_drop_folder_in_every_format_over_two_runs(tmp_path, es_settings, es_client):
    drop = tmp_path / "drop"
    shutil.copytree(WIRE, drop)
    cfg = drop_config(tmp_path, es_settings, drop)
    stories = EXPECTED["stories"]

    first = wirenews("run", "-c", str(cfg), "--summary-json", str(tmp_path / "s1.json"))
    assert first.returncode == 0, first.stdout + first.stderr
    s1 = json.loads((tmp_path / "s1.json").read_text())
    totals = s1["totals"]
    assert s1["articles"]["new"] == len(stories) and s1["articles"]["dead_lettered"] == 0
    for name, kind in EXPECTED["errors"].items():  # each bad file named, with what was wrong
        assert totals[f"feed_errors_wire_{kind}"] == 1, kind
        assert name in first.stderr and f"wire_{kind}" in first.stderr, name
    assert totals["wire_packages"] == EXPECTED["packages"]
    assert totals["wire_skipped_non_text"] == EXPECTED["non_text"]
    assert sum(v for k, v in totals.items() if k.startswith("wire_items_")) - totals["wire_versions_superseded"] == \
        len(stories)
    assert "wire: " in first.stdout and "feed errors:" in first.stdout

    docs = docs_by_guid(es_client, es_settings.index)
    assert set(docs) == {s["guid"] for s in stories}
    for story in stories:
        check_story(story, docs[story["guid"]], "run1")

    for path in LATE.iterdir():  # later versions, kills and a late older version arrive
        shutil.copy(path, drop / path.name)
    second = wirenews("run", "-c", str(cfg), "--summary-json", str(tmp_path / "s2.json"))
    assert second.returncode == 0, second.stdout + second.stderr
    s2 = json.loads((tmp_path / "s2.json").read_text())
    changed = [s for s in stories if s["run2"] != s["run1"]]
    assert s2["articles"]["new"] == 0 and s2["articles"]["updated"] == len(changed)
    assert s2["totals"]["wire_versions_stale"] == 1  # the Reuters story's version 1, after version 2
    docs = docs_by_guid(es_client, es_settings.index)
    assert len(docs) == len(stories)
    for story in stories:
        check_story(story, docs[story["guid"]], "run2")

    # Search never shows a withdrawn story as current, unless asked to.
    found = wirenews("search", "-c", str(cfg), "Ireland Six Nations lock")
    assert found.returncode == 0 and "0 article(s)" in found.stdout, found.stdout
    every = wirenews("search", "-c", str(cfg), "Ireland Six Nations lock", "--include-withdrawn")
    assert "[WITHDRAWN]" in every.stdout, every.stdout
    carbon = wirenews("search", "-c", str(cfg), "carbon markets", "--filter", "service=eca")
    assert "versions=3" in carbon.stdout and "slug=/politics/Britain/EU/" in carbon.stdout, carbon.stdout


def test_versions_and_kills_in_stream(tmp_path, es_settings, es_client):
    drop = tmp_path / "drop"
    drop.mkdir()
    for name in ("anpa-ap-storm.anpa", "nitf-ap-council.xml"):
        shutil.copy(WIRE / name, drop / name)
    poll = 2
    cfg = drop_config(tmp_path, es_settings, drop, poll=poll)
    proc = subprocess.Popen([*wirenews_cmd(), "stream", "-c", str(cfg), "--summary-json", str(tmp_path / "s.json")],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    storm, council = "anpa:ap:2026-03-04:us--severe-weather-texas", "ap:US--Phoenix-Water Recycling"

    def wait_until(check, limit: float) -> dict[str, dict]:
        start = time.monotonic()
        while time.monotonic() - start < limit:
            docs = docs_by_guid(es_client, es_settings.index)
            if check(docs):
                return docs
            time.sleep(0.25)
        raise AssertionError(f"not seen within {limit:.0f}s: {docs_by_guid(es_client, es_settings.index)}")

    try:
        wait_until(lambda d: {storm, council} <= set(d), 180)  # start-up: model load, first poll
        shutil.copy(WIRE / "anpa-ap-storm-kill.anpa", drop / "anpa-ap-storm-kill.anpa")
        shutil.copy(LATE / "nitf-ap-council-correction.xml", drop / "nitf-ap-council-correction.xml")
        docs = wait_until(lambda d: d[storm]["withdrawn"] and d[council]["wire"]["versions"] == 2, poll + 10)
        assert docs[council]["body"].startswith("The Phoenix City Council voted 6-3")
        shutil.copy(WIRE / "anpa-ap-storm.anpa", drop / "anpa-ap-storm-again.anpa")  # the old version, late
        time.sleep(2 * poll + 3)
        docs = docs_by_guid(es_client, es_settings.index)
        assert docs[storm]["withdrawn"] and docs[storm]["wire"]["take"] == "KILL"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=90)
    assert proc.returncode == 0, out
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["articles"]["dead_lettered"] == 0 and summary["feeds"]["failed"] == 0


def wirenews_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("wirenews")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "pipeline.cli"]
