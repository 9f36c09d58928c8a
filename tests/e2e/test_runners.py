"""The sample feeds through `wirenews run` on Prism and on a Dask cluster of two worker processes: the
same documents as the local runner's, the summary's counts, every feed state committed; a Dask worker
killed mid-run loses nothing.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SAMPLES
from tests.daskcluster import DaskCluster
from tests.e2e.test_e2e import EXPECTED, all_docs, wirenews, write_config
from tests.loopback import Route

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

# Fields that differ between any two runs of the same stories: when they were indexed (and, for a story
# without a date of its own, first seen), and the story a copy joined, named after whichever copy came
# first (compared as groups instead, by ``story_groups``).
RUN_TIME_FIELDS = ("ingested_at", "first_seen_at", "@timestamp", "story")


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[DaskCluster]:
    with DaskCluster(workers=2) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def prism_binary() -> Path:
    """The cached Prism; built from the Go module proxy the first time on a machine (scripts/test does it
    ahead of the suite)."""
    from pipeline.runners.prism import ensure_prism

    return ensure_prism()


def comparable(docs: list[dict]) -> dict[str, dict]:
    return {d["_id"]: {k: v for k, v in d.items() if k not in RUN_TIME_FIELDS} for d in docs}


def story_groups(docs: list[dict]) -> set[frozenset[str]]:
    """Which documents are copies of one story, whatever the story is called."""
    groups: dict[str, set[str]] = {}
    for d in docs:
        groups.setdefault((d.get("story") or {}).get("id") or d["_id"], set()).add(d["_id"])
    return {frozenset(g) for g in groups.values()}


def run_into(tmp_path: Path, name: str, es_url: str, port: int, *beam_args: str) -> tuple[dict, str, Path]:
    """`wirenews run` of the demo feeds into an alias of its own: (summary, alias, config)."""
    alias = f"wn-test-runners-{name}-{os.getpid()}"
    (tmp_path / name).mkdir()
    cfg = write_config(tmp_path / name, es_url, alias, port)
    res = wirenews("run", "-c", str(cfg), "--summary-json", str(tmp_path / f"{name}.json"), *beam_args)
    assert res.returncode == 0, f"{name}: {res.stdout[-2000:]}{res.stderr[-4000:]}"
    return json.loads((tmp_path / f"{name}.json").read_text()), alias, cfg


@pytest.fixture
def aliases(es_client) -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    for alias in made:
        es_client.options(ignore_status=404).indices.delete(index=f"{alias}*", ignore_unavailable=True,
                                                            allow_no_indices=True)
        es_client.options(ignore_status=404).indices.delete_index_template(name=f"{alias}*")


def pending_states(es_client, alias: str) -> list[str]:
    state_index = f"{alias}-feed-state"
    es_client.indices.refresh(index=state_index)
    hits = es_client.search(index=state_index, size=200, query={"match_all": {}})["hits"]["hits"]
    return [h["_id"] for h in hits if h["_source"].get("pending")]


def test_prism_and_dask_index_the_same_documents_as_the_local_runner(
        tmp_path, feed_server, es_url, es_client, aliases, dask_cluster, prism_binary):
    stories = EXPECTED["stories"]
    runs = {"local": (), "prism": ("--runner=PrismRunner", f"--prism_location={prism_binary}"),
            "dask": ("--runner=DaskRunner", f"--dask_client_address={dask_cluster.address}")}
    docs, groups = {}, {}
    for name, beam_args in runs.items():
        summary, alias, _ = run_into(tmp_path, name, es_url, feed_server.port, *beam_args)
        aliases.append(alias)
        # The counts reach the summary on every runner.
        assert summary["articles"]["new"] == len(stories), (name, summary)
        assert summary["feeds"]["fetched"] == 20 and summary["feeds"]["failed"] == 0, (name, summary)
        assert not pending_states(es_client, alias), name
        written = all_docs(es_client, alias)
        docs[name], groups[name] = comparable(written), story_groups(written)
    assert sorted(d["guid"] for d in docs["local"].values()) == sorted(stories)
    assert docs["prism"] == docs["local"] and groups["prism"] == groups["local"]
    assert docs["dask"] == docs["local"] and groups["dask"] == groups["local"]


def test_the_stock_dask_runner_and_stream_on_dask_are_refused_before_any_feed_is_read(
        tmp_path, feed_server, es_url, aliases, dask_cluster):
    alias = f"wn-test-runners-refused-{os.getpid()}"
    aliases.append(alias)
    cfg = write_config(tmp_path, es_url, alias, feed_server.port)
    stock = wirenews("run", "-c", str(cfg), "--runner=apache_beam.runners.dask.dask_runner.DaskRunner",
                     f"--dask_client_address={dask_cluster.address}")
    assert stock.returncode == 2 and "--runner=DaskRunner" in stock.stderr, stock.stderr[-2000:]
    stream = wirenews("stream", "-c", str(cfg), "--runner=DaskRunner",
                      f"--dask_client_address={dask_cluster.address}")
    assert stream.returncode == 2 and "stream does not run on Dask" in stream.stderr, stream.stderr[-2000:]
    assert not feed_server.requests  # neither read a feed


def test_a_dask_worker_killed_mid_run_loses_nothing(tmp_path, feed_server, es_url, es_client, aliases):
    stories = EXPECTED["stories"]
    # Every feed answers slowly, so both workers are still polling when one of them is killed.
    for path in SAMPLES.iterdir():
        feed_server.routes[f"/{path.name}"] = Route(body=path.read_bytes(), delay=1.0, headers={
            "Content-Type": "application/json" if path.suffix == ".json" else "application/xml"})
    with DaskCluster(workers=2) as cluster:
        pids = cluster.worker_pids()

        def kill_w1_once_polling() -> None:
            deadline = time.monotonic() + 120
            while len(feed_server.requests) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            os.kill(pids["w1"], signal.SIGKILL)

        killer = threading.Thread(target=kill_w1_once_polling)
        killer.start()
        alias = f"wn-test-runners-killed-{os.getpid()}"
        aliases.append(alias)
        cfg = write_config(tmp_path, es_url, alias, feed_server.port)
        beam_args = ("--runner=DaskRunner", f"--dask_client_address={cluster.address}")
        first = wirenews("run", "-c", str(cfg), *beam_args)
        killer.join()
        print(f"run with a worker killed: exit {first.returncode}")
        assert not _alive(pids["w1"])
        if first.returncode != 0:  # the run may fail instead: then nothing was committed, and a re-run completes
            again = wirenews("run", "-c", str(cfg), *beam_args)
            assert again.returncode == 0, again.stderr[-3000:]
    docs = all_docs(es_client, alias)
    assert sorted(d["guid"] for d in docs) == sorted(stories)
    assert not pending_states(es_client, alias)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"

