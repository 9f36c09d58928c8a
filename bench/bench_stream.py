"""Streaming: freshness (published -> searchable) and the idle CPU of ``wirenews stream``.

    .venv/bin/python bench/bench_stream.py [--poll 5] [--items 20] [--background 10] [--idle 30] [--runner R]

A live RSS feed is served by ``tests.loopback.LoopbackServer`` on 127.0.0.1 (like tests/test_stream.py),
next to ``--background`` generated feeds (bench/corpus.py) polled every 300 s. After the start-up
items are searchable, ``--items`` new stories are published one at a time, each after a random pause
of 0.5 to ``--poll`` seconds so they land at random points of the poll cycle; a story's freshness is the
time from its publication (added to the live feed) until a search (no forced refresh) returns it.
Then the stream is left alone for ``--idle`` seconds with the live feed unchanged (it answers 304)
and the CPU of its whole process tree is read from /proc: the idle cost, in percent of one core.
Target: every story searchable within its feed's poll interval plus 5 s.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from email.utils import formatdate
from html import escape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    DEFAULT_ES,
    REPO,
    cpu_seconds,
    describe_machine,
    drop_alias,
    process_tree,
    wirenews_cmd,
)
from bench.corpus import AGENCIES, make_story, write_corpus  # noqa: E402


def render_live(stories: list[tuple[str, str, str, float]]) -> bytes:
    """(guid, title, html, published) as RSS, newest first."""
    items = "".join(
        f"<item><title>{escape(title)}</title><link>{escape(guid)}</link><guid>{escape(guid)}</guid>"
        f"<pubDate>{formatdate(published, usegmt=True)}</pubDate><description><![CDATA[{body}]]></description></item>"
        for guid, title, body, published in reversed(stories))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Live wire</title>'
            f"<link>http://live.example/</link><description>live</description>{items}</channel></rss>").encode()


class Watcher:
    """Searches the alias every 0.1 s for the guids still awaited and notes when each first appears."""

    def __init__(self, es_url: str, alias: str) -> None:
        from elasticsearch import Elasticsearch

        self.client = Elasticsearch(es_url, request_timeout=30).options(ignore_status=404)
        self.alias = alias
        self.awaited: dict[str, float] = {}  # guid -> published (monotonic)
        self.seen: dict[str, float] = {}  # guid -> freshness, seconds
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def expect(self, guid: str, published: float) -> None:
        with self.lock:
            self.awaited[guid] = published

    def _run(self) -> None:
        while not self.stop.is_set():
            with self.lock:
                guids = list(self.awaited)
            if guids:
                resp = self.client.search(index=self.alias, size=len(guids), source=["guid"],
                                          query={"terms": {"guid": guids}})
                now = time.monotonic()
                hits = {h["_source"]["guid"] for h in resp.body.get("hits", {}).get("hits", [])}
                with self.lock:
                    for guid in hits & set(self.awaited):
                        self.seen[guid] = now - self.awaited.pop(guid)
            self.stop.wait(0.1)

    def wait_all(self, limit: float) -> bool:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            with self.lock:
                if not self.awaited:
                    return True
            time.sleep(0.1)
        return False


def tree_cpu(root: int) -> float:
    return sum(cpu_seconds(pid) for pid in process_tree(root))


def main(argv: list[str] | None = None) -> int:
    import yaml

    from tests.loopback import LoopbackServer, Route

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--poll", type=int, default=5, help="poll interval of the live feed, seconds")
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--background", type=int, default=10, help="generated feeds of 20 stories, polled every 300 s")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of idle CPU measurement")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--es", default=DEFAULT_ES)
    parser.add_argument("--runner", help="a Beam runner, e.g. PrismRunner (Prism is counted in the process tree: "
                                         "wirenews starts it); default the local runner")
    args = parser.parse_args(argv)
    print(f"machine: {describe_machine()}", flush=True)
    rng = random.Random(args.seed)
    alias = f"bench-stream-{uuid.uuid4().hex[:8]}"
    stories: list[tuple[str, str, str, float]] = []

    with tempfile.TemporaryDirectory(prefix="wirenews-stream-") as tmp, \
            LoopbackServer(Path(tmp) / "feeds") as server:
        files = write_corpus(Path(tmp) / "feeds", args.background * 20, args.background, args.seed)

        def publish(n: int) -> tuple[str, float]:
            story = make_story(rng, AGENCIES[0], 900_000 + n)
            guid = f"http://live.example/story/{n}"
            stories.append((guid, story.title, story.html, time.time()))
            server.routes["/live.xml"].body = render_live(stories)
            return guid, time.monotonic()

        server.routes["/live.xml"] = Route(body=render_live(stories), headers={"Content-Type": "application/xml"})
        feeds = [{"name": "live", "url": server.url("live.xml"), "agency": "xinhua", "poll_interval": args.poll}]
        feeds += [{"name": f.name, "url": server.url(f.filename), "agency": f.agency, "poll_interval": 300}
                  for f in files]
        cfg = Path(tmp) / "stream.yaml"
        cfg.write_text(yaml.safe_dump({"elasticsearch": {"hosts": [args.es], "index": alias}, "feeds": feeds}))
        log_path = Path(tmp) / "stream.log"
        started = time.monotonic()
        with open(log_path, "w") as log_file:
            runner = [f"--runner={args.runner}"] if args.runner else []
            proc = subprocess.Popen([*wirenews_cmd(), "stream", "-c", str(cfg), *runner], cwd=REPO, stdout=log_file,
                                    stderr=subprocess.STDOUT, env={**os.environ})
        watcher = Watcher(args.es, alias)
        watcher.thread.start()
        try:
            guid, at = publish(0)
            watcher.expect(guid, at)
            if not watcher.wait_all(300):
                raise RuntimeError("the first story never became searchable:\n" + log_path.read_text()[-3000:])
            print(f"start-up: first story searchable {time.monotonic() - started:.1f} s after the command started",
                  flush=True)
            time.sleep(args.poll + 2)  # let the background feeds' first poll settle
            for n in range(1, args.items + 1):
                time.sleep(rng.uniform(0.5, args.poll))
                watcher.expect(*publish(n))
            if not watcher.wait_all(args.poll + 60):
                print(f"not searchable after {args.poll + 60} s: {sorted(watcher.awaited)}", flush=True)
            time.sleep(args.poll + 2)
            before, t0 = tree_cpu(proc.pid), time.monotonic()
            time.sleep(args.idle)
            idle_cpu = (tree_cpu(proc.pid) - before) / (time.monotonic() - t0)
        finally:
            watcher.stop.set()
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
            drop_alias(alias, args.es)
        fresh = sorted(watcher.seen[g] for g, *_ in stories[1:] if g in watcher.seen)
        if len(fresh) < 2:
            print("too few stories became searchable to report freshness")
            return 1
        p50 = statistics.median(fresh)
        p95 = statistics.quantiles(fresh, n=20, method="inclusive")[-1]
        within = sum(f <= args.poll + 5 for f in fresh)
        print(f"freshness over {len(fresh)} stories (poll interval {args.poll} s): p50 {p50:.2f} s, p95 {p95:.2f} s, "
              f"max {fresh[-1]:.2f} s; {within}/{len(fresh)} within poll + 5 s")
        print(f"idle CPU of the stream's process tree over {args.idle:.0f} s: {idle_cpu:.1%} of one core; "
              f"exit code {proc.returncode}; load {describe_machine()['load']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
