"""Streaming: the schedule alone, then `wirenews stream` against a live loopback feed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from email.utils import formatdate
from pathlib import Path

import pytest
import yaml

from pipeline.stream import SeenCache, due_feeds, reschedule, seconds_to_next
from tests.conftest import REPO
from tests.loopback import Route
from transforms.article import FeedSpec

A = FeedSpec(name="a", url="http://127.0.0.1/a.xml", poll_interval=60)
B = FeedSpec(name="b", url="http://127.0.0.1/b.xml", poll_interval=5)


def test_every_feed_is_due_at_first_then_on_its_own_interval():
    next_due: dict[str, float] = {}
    assert due_feeds([A, B], next_due, 1000.0) == [A, B]
    reschedule([A, B], next_due, 1000.0)
    assert due_feeds([A, B], next_due, 1004.0) == []
    assert seconds_to_next([A, B], next_due, 1004.0) == pytest.approx(1.0)
    assert due_feeds([A, B], next_due, 1005.0) == [B]
    reschedule([B], next_due, 1005.0)
    assert due_feeds([A, B], next_due, 1060.0) == [A, B]
    assert seconds_to_next([], next_due, 0.0) == float("inf")


def test_seen_cache_passes_each_story_once_and_stays_bounded():
    seen = SeenCache(capacity=3)
    assert seen.first_time(("id1", "h1")) and not seen.first_time(("id1", "h1"))
    assert seen.first_time(("id1", "h2"))  # changed content passes again
    for i in range(10):
        seen.first_time((f"x{i}", "h"))
    assert len(seen) == 3
    assert seen.first_time(("id1", "h1"))  # evicted long ago


# -- live stream -----------------------------------------------------------------

STORY = ("<p>GENEVA, Nov. {day} (Xinhua) -- United Nations Secretary-General Antonio Guterres on {weekday} urged "
         "governments in Europe and Africa to fund the World Health Organization's appeal number {n}, "
         "saying the agency needed support.</p><p>Guterres spoke in Geneva after meeting officials from "
         "Kenya and Germany. Enditem</p>")


def render_feed(items: list[int]) -> bytes:
    entries = "".join(
        f"<item><title>UN chief urges funding for appeal {n}</title>"
        f"<link>http://wire.example.org/live/{n}</link><guid>http://wire.example.org/live/{n}</guid>"
        f"<pubDate>{formatdate(1_790_000_000 + n * 60, usegmt=True)}</pubDate>"
        f"<description><![CDATA[{STORY.format(day=n, weekday='Monday', n=n)}]]></description></item>"
        for n in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Live wire</title>'
            f"<link>http://wire.example.org/</link><description>live</description>{entries}</channel></rss>"
            ).encode()


@pytest.mark.integration
def test_stream_indexes_new_items_within_the_poll_interval_and_stops_cleanly(
        tmp_path, feed_server, es_settings, es_client):
    poll = 2
    items = [1, 2]
    feed_server.routes["/live.xml"] = Route(body=render_feed(items), headers={"Content-Type": "application/xml"})
    cfg = {"elasticsearch": {"hosts": es_settings.hosts, "index": es_settings.index},
           "feeds": [{"name": "live", "url": feed_server.url("live.xml"), "agency": "xinhua",
                      "poll_interval": poll},
                     {"name": "xinhua-world", "url": feed_server.url("xinhua-world.xml"), "agency": "xinhua",
                      "poll_interval": 60}]}
    path = tmp_path / "stream.yaml"
    path.write_text(yaml.safe_dump(cfg))
    exe = Path(sys.executable).with_name("wirenews")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "pipeline.cli"]
    proc = subprocess.Popen([*cmd, "stream", "-c", str(path), "--summary-json", str(tmp_path / "s.json")],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ})

    def indexed_guids() -> set[str]:
        # The alias appears once the stream has bootstrapped; on a busy machine its shards may still be
        # starting (503) for a moment after.
        es = es_client.options(ignore_status=(404, 503))
        es.indices.refresh(index=es_settings.index)
        resp = es.search(index=es_settings.index, size=100, query={"match_all": {}}, source=["guid"])
        return {h["_source"]["guid"] for h in resp.get("hits", {}).get("hits", [])}

    def wait_for(guid: str, limit: float) -> float:
        start = time.monotonic()
        while time.monotonic() - start < limit:
            if guid in indexed_guids():
                return time.monotonic() - start
            time.sleep(0.25)
        raise AssertionError(f"{guid} not searchable within {limit:.0f}s")

    latencies = []
    try:
        wait_for("http://wire.example.org/live/2", 120)  # start-up: model load, first poll
        for n in (3, 4, 5):
            items.append(n)
            feed_server.routes["/live.xml"].body = render_feed(items)
            latencies.append(wait_for(f"http://wire.example.org/live/{n}", poll + 5))
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    print("stream latencies (s):", [round(x, 2) for x in latencies])
    assert proc.returncode == 0, out
    assert "SIGTERM received" in out and "feeds:" in out
    guids = indexed_guids()
    assert {f"http://wire.example.org/live/{n}" for n in items} <= guids
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["feeds"]["failed"] == 0 and summary["articles"]["dead_lettered"] == 0
    # Every story indexed once: five live items plus the sample feed's, no document twice.
    es_client.indices.refresh(index=es_settings.index)
    assert es_client.count(index=es_settings.index)["count"] == len(guids)
    assert summary["articles"]["new"] == len(guids)
