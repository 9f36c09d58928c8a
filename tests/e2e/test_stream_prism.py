"""`wirenews stream` on Prism, which splits the poller's restriction on its own: each feed is still polled
once per interval, the stream indexes what the local runner would, and a SIGTERM or SIGINT to its process
group (what systemd and a terminal send) stops it cleanly with its summary.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.e2e.test_runners import comparable, prism_binary  # noqa: F401 - a fixture
from tests.e2e.test_stream import render_feed
from tests.loopback import LoopbackServer, Route

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

POLL = 3  # seconds


class RequestTimes:
    """When each path of the loopback server was requested (sampled every 20 ms)."""

    def __init__(self, server: LoopbackServer) -> None:
        self.server = server
        self.times: dict[str, list[float]] = defaultdict(list)
        self._seen = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            new = self.server.requests[self._seen:]
            self._seen += len(new)
            for _, path, _ in new:
                self.times[path.split("?", 1)[0]].append(time.monotonic())

    def __enter__(self) -> RequestTimes:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def stream_config(tmp_path: Path, server: LoopbackServer, es_settings, index: str | None = None) -> Path:
    cfg = {"elasticsearch": {"hosts": es_settings.hosts, "index": index or es_settings.index},
           "feeds": [{"name": "live", "url": server.url("live.xml"), "agency": "xinhua", "poll_interval": POLL},
                     {"name": "xinhua-world", "url": server.url("xinhua-world.xml"), "agency": "xinhua",
                      "poll_interval": POLL}],
           "fetch": {"max_ttl": 0}}  # every poll asks: the sample's <ttl>5</ttl> would leave it not due
    path = tmp_path / f"{index or 'stream'}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def start_stream(cfg: Path, summary: Path, binary: Path) -> subprocess.Popen:
    exe = Path(sys.executable).with_name("wirenews")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "pipeline.cli"]
    # A process group of its own, as a systemd service or a shell job has: the signal goes to the group.
    return subprocess.Popen([*cmd, "stream", "-c", str(cfg), "--summary-json", str(summary),
                             "--runner=PrismRunner", f"--prism_location={binary}"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, env={**os.environ})


def indexed_guids(es_client, index: str) -> set[str]:
    # The alias appears once the stream has bootstrapped; its shards may still be starting (503).
    es = es_client.options(ignore_status=(404, 503))
    es.indices.refresh(index=index)
    resp = es.search(index=index, size=200, query={"match_all": {}}, source=["guid"])
    return {h["_source"]["guid"] for h in resp.get("hits", {}).get("hits", [])}


def wait_for(es_client, index: str, guid: str, limit: float, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if guid in indexed_guids(es_client, index):
            return
        if proc.poll() is not None:
            raise AssertionError(f"the stream ended early:\n{proc.stdout.read()[-3000:]}")
        time.sleep(0.25)
    raise AssertionError(f"{guid} not searchable within {limit:.0f}s")


@pytest.fixture
def live_server(feed_server) -> Iterator[tuple[LoopbackServer, list[int]]]:
    items = [1, 2]
    feed_server.routes["/live.xml"] = Route(body=render_feed(items), headers={"Content-Type": "application/xml"})
    yield feed_server, items


def test_stream_on_prism_polls_each_feed_once_per_interval_and_stops_on_sigterm(
        tmp_path, live_server, es_settings, es_client, prism_binary):  # noqa: F811
    server, items = live_server
    cfg = stream_config(tmp_path, server, es_settings)
    with RequestTimes(server) as requests:
        proc = start_stream(cfg, tmp_path / "s.json", prism_binary)
        try:
            wait_for(es_client, es_settings.index, "http://wire.example.org/live/2", 120, proc)
            for n in (3, 4, 5):
                time.sleep(POLL)
                items.append(n)
                server.routes["/live.xml"].body = render_feed(items)
                wait_for(es_client, es_settings.index, f"http://wire.example.org/live/{n}", POLL + 5, proc)
            time.sleep(2 * POLL)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out[-3000:]
    assert "SIGTERM received" in out and "feeds:" in out
    # One poll per feed per interval: never two polls of a feed within one interval (Prism splits the
    # restriction at once; each half polling would show as requests a fraction of an interval apart),
    # and none left out once the first poll's bundle (which loads the model) is through.
    for path in ("/live.xml", "/xinhua-world.xml"):
        times = requests.times[path]
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert len(times) >= 5 and min(gaps) > 0.8 * POLL and max(gaps[1:]) < POLL + 3, (path, gaps)
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["feeds"]["failed"] == 0 and summary["articles"]["dead_lettered"] == 0
    assert summary["articles"]["new"] == len(indexed_guids(es_client, es_settings.index))

    # The same feeds through the local runner: the same documents.
    local_alias = f"{es_settings.index}-local"
    try:
        res = subprocess.run([str(Path(sys.executable).with_name("wirenews")), "run", "-c",
                              str(stream_config(tmp_path, server, es_settings, local_alias))],
                             cwd=REPO, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stderr[-3000:]
        from tests.e2e.test_e2e import all_docs

        assert comparable(all_docs(es_client, es_settings.index)) == comparable(all_docs(es_client, local_alias))
    finally:
        es_client.options(ignore_status=404).indices.delete(index=f"{local_alias}*", ignore_unavailable=True,
                                                            allow_no_indices=True)
        es_client.options(ignore_status=404).indices.delete_index_template(name=f"{local_alias}*")


def test_sigint_to_the_process_group_stops_a_stream_on_prism_with_its_summary(
        tmp_path, live_server, es_settings, es_client, prism_binary):  # noqa: F811
    server, _ = live_server
    proc = start_stream(stream_config(tmp_path, server, es_settings), tmp_path / "s.json", prism_binary)
    try:
        wait_for(es_client, es_settings.index, "http://wire.example.org/live/2", 120, proc)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out[-3000:]
    assert "SIGINT received" in out and "feeds:" in out
    assert json.loads((tmp_path / "s.json").read_text())["articles"]["new"] >= 2
