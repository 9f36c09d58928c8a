"""Shared pieces of the reliability suite: running `wirenews`, reading the index, and the report table.

Every scenario adds one row (scenario, articles expected, indexed, duplicated, dead-lettered, time) to
the report, which is written as Markdown into pytest's temporary directory at the end of the session
(and to ``WIRENEWS_RELIABILITY_REPORT`` when set) and printed in the terminal summary.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO, SAMPLES

EXPECTED_STORIES: dict[str, Any] = yaml.safe_load(
    (REPO / "samples" / "expected.yaml").read_text(encoding="utf-8"))["stories"]


@dataclass
class Row:
    scenario: str
    expected: int
    indexed: int
    duplicated: int
    dead_lettered: int
    seconds: float
    outcome: str = ""


_ROWS: list[Row] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "reliability: fault and hostile-input scenarios (tests/reliability)")


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the secured node in the background when a selected test needs it: it boots while others run."""
    if session.config.option.collectonly:
        return
    if any("secure_node" in getattr(item, "fixturenames", ()) for item in session.items):
        from tests.reliability import securenode

        securenode.start_in_background()


def pytest_sessionfinish(session: pytest.Session) -> None:
    from tests.reliability import securenode

    securenode.stop()


def record(row: Row) -> None:
    """One line of the report; figures come from the index, never from the pipeline's own counters."""
    _ROWS.append(row)


def render_report(rows: list[Row]) -> str:
    head = ("| scenario | articles expected | indexed | duplicated | dead-lettered | time (s) | outcome |\n"
            "|---|---:|---:|---:|---:|---:|---|\n")
    body = "".join(f"| {r.scenario} | {r.expected} | {r.indexed} | {r.duplicated} | {r.dead_lettered} | "
                   f"{r.seconds:.1f} | {r.outcome} |\n" for r in rows)
    return "# Reliability report\n\n" + head + body


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not _ROWS:
        return
    text = render_report(_ROWS)
    targets = []
    factory = getattr(config, "_tmp_path_factory", None)
    if factory is not None:
        targets.append(factory.getbasetemp() / "reliability-report.md")
    if os.environ.get("WIRENEWS_RELIABILITY_REPORT"):
        targets.append(Path(os.environ["WIRENEWS_RELIABILITY_REPORT"]))
    for target in targets:
        target.write_text(text, encoding="utf-8")
    terminalreporter.section("reliability report")
    terminalreporter.write(text)
    for target in targets:
        terminalreporter.write_line(f"written to {target}")


# -- running the command ---------------------------------------------------------------


def wirenews_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("wirenews")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "pipeline.cli"]


def run_env(tmp_path: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a run: no credentials inherited, dead letters kept under ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIRENEWS_ES_")}
    env["WIRENEWS_DEADLETTER_FILE"] = str(tmp_path / "deadletter.ndjson")
    env.update(extra or {})
    return env


def wirenews(tmp_path: Path, *args: str, env: dict[str, str] | None = None,
             timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([*wirenews_cmd(), *args], capture_output=True, text=True, timeout=timeout, cwd=REPO,
                          env=run_env(tmp_path, env))


def sample_feeds(port: int) -> list[dict[str, Any]]:
    """The demo's feeds served by a loopback server on ``port`` (its wire drop folder left out)."""
    demo = yaml.safe_load((REPO / "configs" / "demo.yaml").read_text(encoding="utf-8"))
    feeds = [f for f in demo["feeds"] if f["url"].startswith("http")]
    for feed in feeds:
        feed["url"] = feed["url"].replace("127.0.0.1:8765", f"127.0.0.1:{port}")
    return feeds


def write_config(path: Path, hosts: list[str], alias: str, feeds: list[dict[str, Any]], *,
                 es: dict[str, Any] | None = None, fetch: dict[str, Any] | None = None) -> Path:
    cfg = {"elasticsearch": {"hosts": hosts, "index": alias, **(es or {})},
           # max_ttl 0: re-runs follow at once, and the samples' <ttl> would leave their feeds not due
           "fetch": {"min_gap": 0.0, "max_ttl": 0, **(fetch or {})}, "feeds": feeds}
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    return path


def summary(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


# -- reading what was stored -----------------------------------------------------------


@dataclass
class Stored:
    guids: Counter  # guid -> number of documents holding it
    ids: list[str]
    dead_lettered: int  # records in the dead-letter index and the local dead-letter file

    def indexed(self, expected: set[str]) -> int:
        return len(expected & set(self.guids))

    @property
    def duplicated(self) -> int:
        return sum(n - 1 for n in self.guids.values() if n > 1) + len(self.ids) - len(set(self.ids))

    def missing(self, expected: set[str]) -> set[str]:
        return expected - set(self.guids)


def stored(client: Any, alias: str, deadletter_file: Path | None = None) -> Stored:
    client.indices.refresh(index=f"{alias}*", ignore_unavailable=True, allow_no_indices=True)
    hits = []
    if client.indices.exists(index=alias):
        resp = client.search(index=alias, size=5000, source_includes=["guid"], query={"match_all": {}},
                             track_total_hits=True)
        assert resp["hits"]["total"]["value"] == len(resp["hits"]["hits"])
        hits = resp["hits"]["hits"]
    dead = 0
    dl_index = f"{alias}-deadletter"
    if client.indices.exists(index=dl_index):
        dead = client.count(index=dl_index)["count"]
    if deadletter_file is not None and deadletter_file.exists():
        dead += sum(1 for line in deadletter_file.read_text(encoding="utf-8").splitlines() if line.strip())
    return Stored(guids=Counter(h["_source"].get("guid") for h in hits), ids=[h["_id"] for h in hits],
                  dead_lettered=dead)


def feed_states(client: Any, alias: str) -> tuple[dict[str, dict], list[str]]:
    """(committed state by feed name, ids of pending states)."""
    index = f"{alias}-feed-state"
    if not client.indices.exists(index=index):
        return {}, []
    client.indices.refresh(index=index)
    hits = client.search(index=index, size=1000, query={"match_all": {}})["hits"]["hits"]
    committed = {h["_id"]: h["_source"] for h in hits if not h["_id"].endswith("#pending")}
    pending = [h["_id"] for h in hits if h["_id"].endswith("#pending")]
    return committed, pending


@pytest.fixture
def sample_server() -> Iterator[Any]:
    from tests.loopback import LoopbackServer

    with LoopbackServer(SAMPLES) as srv:
        yield srv


class Clock:
    def __init__(self) -> None:
        self.started = time.monotonic()

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started


@pytest.fixture
def clock() -> Clock:
    return Clock()
