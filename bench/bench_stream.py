"""Streaming: freshness (published -> searchable), the idle CPU, and memory over time of ``wirenews stream``.

    .venv/bin/python bench/bench_stream.py [--poll 5] [--items 20] [--background 10] [--idle 30] [--runner R]
    .venv/bin/python bench/bench_stream.py --memory 3600 [--feeds 5] [--every 3] [--poll 5] [--sample 30] [--tree DIR]

A live RSS feed is served by ``tests.loopback.LoopbackServer`` on 127.0.0.1 (like tests/test_stream.py),
next to ``--background`` generated feeds (bench/corpus.py) polled every 300 s. After the start-up
items are searchable, ``--items`` new stories are published one at a time, each after a random pause
of 0.5 to ``--poll`` seconds so they land at random points of the poll cycle; a story's freshness is the
time from its publication (added to the live feed) until a search (no forced refresh) returns it.
Then the stream is left alone for ``--idle`` seconds with the live feed unchanged (it answers 304)
and the CPU of its whole process tree is read from /proc: the idle cost, in percent of one core.
Target: every story searchable within its feed's poll interval plus 5 s.

``--memory SECONDS``: a flat-line check instead. ``--feeds`` live feeds on 127.0.0.1 each gain a new story
every ``--every`` seconds and, like a real feed, list only their newest ``--window`` items; they are polled
every ``--poll`` seconds. The PSS of the stream's whole process tree is sampled every ``--sample`` seconds
with the number of stories published so far. Memory saws up and down by a hundred MB with each batch being
tagged, so each ``--window-s`` of samples is reduced to its floor (the minimum: what stays held between
batches) and its peak. Reported, for the floors and for the peaks after ``--warmup`` seconds: the slope of
a least-squares line per hour and per 1,000 stories, and the mean of the first quarter against the last.
PSS and USS both: USS (private pages) does not fall when another process maps the same libraries.
Goal: a flat line of the floors (a slope within the noise of a few MB). ``--tree DIR`` runs
``python -m pipeline.cli`` from another checkout, for a before/after.
"""

from __future__ import annotations

import argparse
import json
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
from collections.abc import Callable
from email.utils import formatdate
from html import escape
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    DEFAULT_ES,
    REPO,
    count_docs,
    cpu_seconds,
    describe_machine,
    drop_alias,
    process_tree,
    tree_memory_mb,
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


# -- memory over time ------------------------------------------------------------------


def flat_line(samples: list[tuple[float, int, float]]) -> dict[str, float]:
    """(seconds since start, stories published, MB) samples -> least-squares slopes per hour and per
    1,000 stories, and the mean of the first and last quarter of the samples."""
    if len(samples) < 4:
        raise ValueError(f"a slope needs at least 4 samples, not {len(samples)}")
    seconds, stories, mb = zip(*samples, strict=True)
    quarter = max(1, len(samples) // 4)
    per_story = statistics.linear_regression(stories, mb).slope if len(set(stories)) > 1 else float("nan")
    return {"mb_per_hour": statistics.linear_regression(seconds, mb).slope * 3600,
            "mb_per_1000_stories": per_story * 1000,
            "first_quarter_mb": statistics.fmean(mb[:quarter]), "last_quarter_mb": statistics.fmean(mb[-quarter:]),
            "samples": len(samples), "seconds": seconds[-1] - seconds[0], "stories": stories[-1] - stories[0]}


def windows(samples: list[tuple[float, int, float, float]], column: int, warmup: float, width: float,
            how: Callable[[list[float]], float]) -> list[tuple[float, int, float]]:
    """Samples after ``warmup`` in windows of ``width`` seconds, each reduced to (end, stories, ``how`` of the
    column); a last window less than half full is left out."""
    out: list[tuple[float, int, float]] = []
    steady = [s for s in samples if s[0] >= warmup]
    if not steady:
        return out
    start = steady[0][0]
    groups: dict[int, list[tuple[float, int, float, float]]] = {}
    for s in steady:
        groups.setdefault(int((s[0] - start) // width), []).append(s)
    full = max(len(g) for g in groups.values())
    for _, group in sorted(groups.items()):
        if len(group) * 2 >= full:
            out.append((group[-1][0], group[-1][1], how([s[column] for s in group])))
    return out


class LiveFeeds:
    """``count`` feeds on one loopback server, each listing its newest ``window`` stories, as a real feed does."""

    def __init__(self, server: Any, count: int, window: int, seed: int) -> None:
        from tests.loopback import Route

        self.server, self.window, self.rng = server, window, random.Random(seed)
        self.stories: dict[str, list[tuple[str, str, str, float]]] = {f"live{i}": [] for i in range(count)}
        self.published = 0
        for name in self.stories:
            server.routes[f"/{name}.xml"] = Route(body=render_live([]), headers={"Content-Type": "application/xml"})

    def feeds(self, poll: int) -> list[dict[str, Any]]:
        return [{"name": name, "url": self.server.url(f"{name}.xml"), "agency": "xinhua", "poll_interval": poll}
                for name in self.stories]

    def publish(self) -> None:
        """One new story in every feed."""
        for name, stories in self.stories.items():
            story = make_story(self.rng, AGENCIES[0], 900_000 + self.published)
            stories.append((f"http://live.example/{name}/{self.published}", story.title, story.html, time.time()))
            del stories[:-self.window]
            self.server.routes[f"/{name}.xml"].body = render_live(stories)
            self.published += 1


def memory_main(args: argparse.Namespace) -> int:
    """PSS of ``wirenews stream``'s process tree over ``args.memory`` seconds of feeds that never stop growing."""
    import yaml

    from tests.loopback import LoopbackServer

    alias = f"bench-streammem-{uuid.uuid4().hex[:8]}"
    samples: list[tuple[float, int, float, float]] = []  # seconds, stories published, PSS MB, USS MB
    with tempfile.TemporaryDirectory(prefix="wirenews-streammem-") as tmp, LoopbackServer() as server:
        live = LiveFeeds(server, args.feeds, args.window, args.seed)
        cfg = Path(tmp) / "stream.yaml"
        cfg.write_text(yaml.safe_dump({"elasticsearch": {"hosts": [args.es], "index": alias},
                                       "feeds": live.feeds(args.poll)}))
        log_path = Path(tmp) / "stream.log"
        stop = threading.Event()

        def publisher() -> None:
            while not stop.wait(args.every):
                live.publish()

        cmd = [sys.executable, "-m", "pipeline.cli"] if args.tree else wirenews_cmd()
        env = {**os.environ, **({"PYTHONPATH": str(args.tree)} if args.tree else {})}
        live.publish()
        started = time.monotonic()
        with open(log_path, "w") as log_file:
            proc = subprocess.Popen([*cmd, "stream", "-c", str(cfg)], cwd=args.tree or REPO, stdout=log_file,
                                    stderr=subprocess.STDOUT, env=env)
        thread = threading.Thread(target=publisher, daemon=True)
        thread.start()
        try:
            while (elapsed := time.monotonic() - started) < args.memory:
                time.sleep(min(args.sample, args.memory - elapsed))
                if proc.poll() is not None:
                    raise RuntimeError(f"the stream ended early ({proc.returncode}):\n{log_path.read_text()[-3000:]}")
                samples.append((time.monotonic() - started, live.published, *tree_memory_mb(proc.pid)))
                if len(samples) % max(1, round(args.window_s / args.sample)) == 0:
                    recent = [s[3] for s in samples[-round(args.window_s / args.sample):]]
                    print(f"  {samples[-1][0]:6.0f} s  {samples[-1][1]:5d} stories  USS floor {min(recent):7.1f} MB, "
                          f"peak {max(recent):7.1f} MB  load {describe_machine()['load']}", flush=True)
        finally:
            stop.set()
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=300)
            except subprocess.TimeoutExpired:
                proc.kill()
            indexed = count_docs(alias, args.es)
            drop_alias(alias, args.es)
    lines = {f"{kind} {name}": flat_line(windows(samples, column, args.warmup, args.window_s, how))
             for column, kind in ((2, "PSS"), (3, "USS")) for how, name in ((min, "floor"), (max, "peak"))}
    first = lines["USS floor"]
    print(f"memory of the process tree after a {args.warmup:.0f} s warm-up, {first['seconds']:.0f} s and "
          f"{first['stories']} stories ({live.published} published, {indexed} indexed); "
          f"load {describe_machine()['load']}", flush=True)
    for kind, line in lines.items():
        print(f"  {kind}: slope {line['mb_per_hour']:+.1f} MB/hour, {line['mb_per_1000_stories']:+.1f} MB per "
              f"1,000 stories; first quarter {line['first_quarter_mb']:.1f} MB, last quarter "
              f"{line['last_quarter_mb']:.1f} MB", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"machine": describe_machine(), "tree": str(args.tree or REPO),
                                         "flat_line": lines, "indexed": indexed, "published": live.published,
                                         "samples": samples}, indent=2))
    return 0


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
    parser.add_argument("--memory", type=float, help="seconds of the memory-over-time run instead of freshness")
    parser.add_argument("--feeds", type=int, default=5, help="--memory: live feeds")
    parser.add_argument("--every", type=float, default=3.0, help="--memory: seconds between two stories of a feed")
    parser.add_argument("--window", type=int, default=30, help="--memory: newest stories a feed lists")
    parser.add_argument("--sample", type=float, default=5.0, help="--memory: seconds between two samples")
    parser.add_argument("--window-s", type=float, default=60.0, help="--memory: seconds of samples reduced to "
                        "their floor and peak")
    parser.add_argument("--warmup", type=float, default=90.0, help="--memory: seconds left out of the slope "
                        "(start-up and the model's first batches)")
    parser.add_argument("--tree", type=Path, help="--memory: run wirenews from this checkout instead")
    parser.add_argument("--json", type=Path, help="--memory: write the samples and figures to this file")
    args = parser.parse_args(argv)
    print(f"machine: {describe_machine()}", flush=True)
    if args.memory:
        return memory_main(args)
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
