"""End to end against each stage alone; the re-poll; memory; growth with corpus size.

    .venv/bin/python bench/bench_pipeline.py [--articles 2000] [--feeds 50] [--repeat 3]
    .venv/bin/python bench/bench_pipeline.py --scale 500,2000,8000 --repeat 1

The corpus (bench/corpus.py, seeded) is served by one ``tests.loopback.LoopbackServer`` per agency, each
on a loopback address of its own (127.0.0.2, 127.0.0.3, ...; ``bench.common.serve_corpus``), as a real
feed set comes from several agencies' hosts: the politeness gap (``fetch.min_gap``, 0.5 s per host and
worker process) applies between the feeds of one agency only. ``--one-host`` serves every feed from
127.0.0.1, the worst case where the gap applies between all of them; ``--min-gap 0`` models the other
end, every feed on a host of its own. The layout is printed and recorded (``hosts``) with the figures.
Each repeat, in this order, on a fresh alias ``bench-pipe-*`` that is deleted afterwards:

1. ``wirenews run -c CFG --direct_num_workers=2 --direct_running_mode=multi_processing``: whole-process
   wall time (Python start to exit), CPU and peak RSS summed over the process tree (sampled from /proc
   every 0.2 s; RSS and CPU only, which cost the run nothing measurable).
2. The same command again over the unchanged feeds (conditional GETs): the re-poll. On the local runner
   the launcher polls first and, finding nothing changed, ends without starting Beam.
3. Each stage alone over the same articles, in a 2-process pool (``multiprocessing`` spawn): each worker
   first does the stage's set-up (clients, rule packs, the model), then the pool is timed over the work
   only, so a stage's articles/s is its steady limit on both cores:
   fetch+parse ``process_feed`` with feed state read and written (one task per feed, the same URLs as
   the end-to-end run, the default politeness gate); clean ``clean_article`` (tasks of 64); entities
   ``Tagger.tag_many`` plus ``apply_entities`` (tasks of 64, the DoFn's batch); index: stored-hash ``mget``,
   ``select_changed``, ``to_request`` and ``ElasticsearchSink.write`` into a fresh alias (tasks of 500, the
   lookup batch).

After the repeats, one more first run on a fresh alias measures memory (``--memory-runs``): peak PSS
of the process tree, sampled every 0.2 s. It is kept apart because reading PSS slows the run it
samples (``bench.common.TreeSampler``); its wall time is recorded but enters no ratio.

``--tree DIR`` runs ``python -m pipeline.cli`` from another checkout (``PYTHONPATH=DIR``), so a
proposed change is measured on the same corpus and machine before it is made.

Ratios (end to end / slowest stage, re-poll / first run) are taken within each repeat, then the median
of the repeats is reported, because the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    BEAM_2_WORKERS,
    REPO,
    add_corpus_arguments,
    count_docs,
    describe_machine,
    drop_alias,
    median,
    run_measured,
    serve_corpus,
    wirenews_cmd,
    write_config,
)
from bench.corpus import FeedFile, write_corpus  # noqa: E402

log = logging.getLogger("bench")

STAGES = ("fetch+parse", "clean", "entities", "index")
_WORKER: dict[str, Any] = {}  # per pool process: what the stage's set-up built


# -- stages alone, in a pool ------------------------------------------------------------


def _settings(alias: str, es_url: str) -> Any:
    from transforms.elastic import EsSettings

    return EsSettings(hosts=[es_url], index=alias, local=False)


def _setup(stage: str, alias: str, es_url: str, min_gap: float | None) -> None:
    """What the stage's DoFn builds in ``setup()``, once per pool process."""
    logging.basicConfig(level=logging.WARNING, force=True)
    from transforms.elastic import make_client

    settings = _settings(alias, es_url)
    if stage == "fetch+parse":
        from transforms.sources.feed_state import FeedStateStore
        from transforms.sources.http_client import HttpClient

        _WORKER["http"] = HttpClient(min_gap=min_gap)
        _WORKER["store"] = FeedStateStore(make_client(settings), settings.state_index)
    elif stage == "clean":
        from transforms.cleaning.cleaner import Cleaner

        _WORKER["cleaner"] = Cleaner.from_dir()
    elif stage == "entities":
        from transforms.entities.tagger import Tagger

        _WORKER["tagger"] = Tagger.load()
    elif stage == "index":
        from transforms.sink.bulk import ElasticsearchSink, StoredLookup

        client = make_client(settings)
        _WORKER["lookup"] = StoredLookup(client, settings.index)
        _WORKER["sink"] = ElasticsearchSink(client, settings.index, deadletter_index=settings.deadletter_index,
                                            max_docs=settings.bulk_max_docs, max_bytes=settings.bulk_max_bytes)


def _ready(_: int) -> bool:
    time.sleep(0.5)  # long enough for each pool process to take one
    return True


def _work(task: tuple[str, Any]) -> tuple[list[Any], float]:
    """The stage over one task's payload: (outputs, CPU seconds this process spent on it)."""
    started = time.process_time()
    outputs = _stage(*task)
    return outputs, time.process_time() - started


def _stage(stage: str, payload: Any) -> list[Any]:
    if stage == "fetch+parse":
        from transforms.sources.poll import process_feed

        store = _WORKER["store"]
        outcome = process_feed(payload, store.get(payload.name), _WORKER["http"], datetime.now(timezone.utc))
        if outcome.state is not None:
            store.put(outcome.state)
        return outcome.articles
    if stage == "clean":
        from transforms.cleaning.cleaner import clean_article

        return [clean_article(a, _WORKER["cleaner"]) for a in payload]
    if stage == "entities":
        from transforms.entities.tagger import apply_entities

        results = _WORKER["tagger"].tag_many([(a.title, a.text) for a in payload],
                                             hints=[a.language_hint for a in payload])
        return [apply_entities(a, r) for a, r in zip(payload, results, strict=True)]
    from pipeline import __version__
    from transforms.sink.index import select_changed, to_request

    stored = _WORKER["lookup"].lookup(sorted({a.id for a in payload}))
    now = datetime.now(timezone.utc)
    changed = [a for a in select_changed(payload, stored) if a is not None]
    report = _WORKER["sink"].write([to_request(a, __version__, now) for a in changed])
    return [len(report.created) + len(report.updated)]


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def run_stage(stage: str, payloads: Iterable[Any], alias: str, es_url: str, workers: int = 2,
              min_gap: float | None = None) -> tuple[list[Any], float, float, float]:
    """(outputs, set-up s, work s, work CPU-s) of one stage over ``payloads`` in a ``workers``-process pool."""
    ctx = multiprocessing.get_context("spawn")
    started = time.perf_counter()
    with ctx.Pool(workers, initializer=_setup, initargs=(stage, alias, es_url, min_gap)) as pool:
        pool.map(_ready, range(workers), chunksize=1)
        setup = time.perf_counter() - started - 0.5
        begin = time.perf_counter()
        outputs: list[Any] = []
        cpu = 0.0
        for chunk, chunk_cpu in pool.imap_unordered(_work, [(stage, p) for p in payloads], chunksize=1):
            outputs.extend(chunk)
            cpu += chunk_cpu
        work = time.perf_counter() - begin
    return outputs, setup, work, cpu


def stages_alone(feeds: list[Any], es_url: str, workers: int = 2,
                 min_gap: float | None = None) -> dict[str, dict[str, float]]:
    """Each stage over the output of the one before, timed alone."""
    from pipeline.elasticsearch.bootstrap import bootstrap, ensure_aux_indices
    from transforms.elastic import make_client

    alias = f"bench-stage-{uuid.uuid4().hex[:8]}"
    settings = _settings(alias, es_url)
    client = make_client(settings)
    bootstrap(client, alias)
    ensure_aux_indices(client, settings)
    from transforms.sources.feed_state import FeedStateStore

    FeedStateStore(client, settings.state_index).ensure_index()
    client.close()
    out: dict[str, dict[str, float]] = {}
    try:
        articles, *times = run_stage("fetch+parse", feeds, alias, es_url, workers, min_gap=min_gap)
        n = len(articles)
        out["fetch+parse"] = _timing(n, *times)
        cleaned, *times = run_stage("clean", _chunks(articles, 64), alias, es_url, workers)
        out["clean"] = _timing(len(cleaned), *times)
        tagged, *times = run_stage("entities", _chunks(cleaned, 64), alias, es_url, workers)
        out["entities"] = _timing(len(tagged), *times)
        written, *times = run_stage("index", _chunks(tagged, 500), alias, es_url, workers)
        out["index"] = _timing(sum(written), *times)
        if min_gap != 0:  # the politeness gap's share: the same fetch with no gap between requests to one host
            drop_alias(alias, es_url)
            client = make_client(settings)
            FeedStateStore(client, settings.state_index).ensure_index()
            client.close()
            _, *times = run_stage("fetch+parse", feeds, alias, es_url, workers, min_gap=0.0)
            out["fetch+parse, no gap"] = _timing(n, *times)
    finally:
        drop_alias(alias, es_url)
    return out


def _timing(articles: int, setup: float, work: float, cpu: float) -> dict[str, float]:
    return {"articles": articles, "setup_s": setup, "work_s": work, "cpu_s": cpu,
            "per_s": articles / work if work else float("nan")}


# -- end to end --------------------------------------------------------------------------


def wirenews_run(cfg: Path, extra: list[str], tree: Path | None = None, *, pss: bool = False) -> dict[str, Any]:
    """``wirenews run`` as a whole process; from another checkout when ``tree`` is given; ``pss`` samples
    PSS too (a memory run, not a timed one)."""
    cmd = [sys.executable, "-m", "pipeline.cli"] if tree else wirenews_cmd()
    result = run_measured([*cmd, "run", "-c", str(cfg), *BEAM_2_WORKERS, *extra], cwd=tree or REPO,
                          env={"PYTHONPATH": str(tree)} if tree else None, pss=pss)
    if result.returncode != 0:
        raise RuntimeError(f"wirenews run exited {result.returncode}:\n{result.output[-4000:]}")
    pids = sorted(result.own_peak_pss)  # per process in the order they started (the launcher first), in MB
    return {"seconds": result.seconds, "peak_pss_mb": result.peak_pss_mb, "peak_rss_mb": result.peak_rss_mb,
            "processes": result.processes, "cpu_s": result.cpu_seconds,
            "pss_at_peak": [round(result.pss_at_peak.get(pid, 0.0)) for pid in pids],
            "own_peak_pss": [round(result.own_peak_pss[pid]) for pid in pids],
            "series": [(round(t - result.series[0][0], 1), [round(by_pid.get(pid, 0.0)) for pid in pids])
                       for t, by_pid in result.series]}


def _fresh_config(prefix: str, files: list[FeedFile], urls: dict[str, str], workdir: Path, es_url: str,
                  min_gap: float | None) -> tuple[str, Path]:
    """A new alias (the caller drops it) and a config for the corpus writing to it."""
    alias = f"{prefix}-{uuid.uuid4().hex[:8]}"
    return alias, write_config(workdir / f"{alias}.yaml", urls, files, alias, es_url, min_gap=min_gap)


def one_repeat(files: list[FeedFile], urls: dict[str, str], workdir: Path, es_url: str, *, stages: bool,
               extra: list[str], tree: Path | None = None, min_gap: float | None = None) -> dict[str, Any]:
    """One first run and re-poll, then each stage alone; every feed fetched from ``urls[name]`` in both."""
    from transforms.article import FeedSpec

    alias, cfg = _fresh_config("bench-pipe", files, urls, workdir, es_url, min_gap)
    articles = sum(len(f.stories) for f in files)
    row: dict[str, Any] = {"articles": articles}
    try:
        row["first"] = wirenews_run(cfg, extra, tree)
        row["indexed"] = count_docs(alias, es_url)
        row["repoll"] = wirenews_run(cfg, extra, tree)
    finally:
        drop_alias(alias, es_url)
    row["e2e_per_s"] = articles / row["first"]["seconds"]
    row["repoll_share"] = row["repoll"]["seconds"] / row["first"]["seconds"]
    if stages:
        specs = [FeedSpec(name=f.name, url=urls[f.name], agency=f.agency) for f in files]
        row["stages"] = stages_alone(specs, es_url, min_gap=min_gap)
        slowest = min(STAGES, key=lambda s: row["stages"][s]["per_s"])
        row["slowest"] = slowest
        row["ratio"] = row["e2e_per_s"] / row["stages"][slowest]["per_s"]
    return row


def memory_run(files: list[FeedFile], urls: dict[str, str], workdir: Path, es_url: str, *, extra: list[str],
               tree: Path | None = None, min_gap: float | None = None) -> dict[str, Any]:
    """A first run on a fresh alias with PSS sampled: the memory figure, apart from the timed runs."""
    alias, cfg = _fresh_config("bench-mem", files, urls, workdir, es_url, min_gap)
    try:
        run = wirenews_run(cfg, extra, tree, pss=True)
        run["indexed"] = count_docs(alias, es_url)
    finally:
        drop_alias(alias, es_url)
    return run


def bench_size(articles: int, feeds: int, repeat: int, es_url: str, *, stages: bool, extra: list[str],
               seed: int, report: Callable[[dict[str, Any]], None], tree: Path | None = None,
               min_gap: float | None = None, one_host: bool = False,
               memory_runs: int = 1) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The timed repeats, then the memory runs."""
    with tempfile.TemporaryDirectory(prefix="wirenews-bench-") as tmp:
        workdir = Path(tmp)
        files = write_corpus(workdir / "feeds", articles, feeds, seed)
        rows = []
        with serve_corpus(workdir / "feeds", files, one_host=one_host) as served:
            print(f"  {articles} articles, {len(files)} feeds: {served.describe()}", flush=True)
            for _ in range(repeat):
                row = one_repeat(files, served.urls, workdir, es_url, stages=stages, extra=extra, tree=tree,
                                 min_gap=min_gap)
                row.update(served.layout)
                row["load"] = describe_machine()["load"]
                report(row)
                rows.append(row)
            memory = []
            for _ in range(memory_runs):
                run = memory_run(files, served.urls, workdir, es_url, extra=extra, tree=tree, min_gap=min_gap)
                run["load"] = describe_machine()["load"]
                print(f"  memory run: peak PSS {run['peak_pss_mb']:.0f} MB (RSS sum {run['peak_rss_mb']:.0f} MB), "
                      f"{run['seconds']:.1f} s while PSS was sampled, load {run['load']}", flush=True)
                memory.append(run)
    return rows, memory


def summarize(rows: list[dict[str, Any]], memory: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the repeats; ratios were taken within each repeat first."""
    out: dict[str, Any] = {
        "articles": rows[0]["articles"],
        "hosts": rows[0]["hosts"],
        "layout": rows[0]["layout"],
        "repeats": len(rows),
        "first_s": median([r["first"]["seconds"] for r in rows]),
        "e2e_per_s": median([r["e2e_per_s"] for r in rows]),
        "repoll_s": median([r["repoll"]["seconds"] for r in rows]),
        "repoll_share": median([r["repoll_share"] for r in rows]),
        "first_cpu_s": median([r["first"]["cpu_s"] for r in rows]),
        "repoll_cpu_s": median([r["repoll"]["cpu_s"] for r in rows]),
        "peak_rss_mb": median([r["first"]["peak_rss_mb"] for r in rows]),
        "peak_pss_mb": median([m["peak_pss_mb"] for m in memory]),
        "memory_run_rss_mb": median([m["peak_rss_mb"] for m in memory]),
        "loads": [r["load"] for r in rows],
    }
    if "stages" in rows[0]:
        names = list(rows[0]["stages"])
        out["stages"] = {s: {key: median([r["stages"][s][key] for r in rows]) for key in ("per_s", "setup_s", "cpu_s")}
                         for s in names}
        out["ratio"] = median([r["ratio"] for r in rows])
        out["slowest"] = max({r["slowest"] for r in rows}, key=[r["slowest"] for r in rows].count)
    return out


def _print_row(row: dict[str, Any]) -> None:
    line = (f"  {row['articles']} articles on {row['hosts']} host(s): first run {row['first']['seconds']:.1f} s "
            f"({row['e2e_per_s']:.1f}/s, {row['first']['cpu_s']:.0f} CPU-s), re-poll {row['repoll']['seconds']:.1f} s "
            f"({row['repoll_share']:.0%}), peak RSS sum {row['first']['peak_rss_mb']:.0f} MB, load {row['load']}")
    if "stages" in row:
        line += "\n    alone: " + ", ".join(
            f"{s} {v['per_s']:.1f}/s ({v['cpu_s']:.1f} CPU-s, set-up {v['setup_s']:.1f} s)"
            for s, v in row["stages"].items())
        line += f"\n    end to end / slowest ({row['slowest']}): {row['ratio']:.2f}"
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_corpus_arguments(parser)
    parser.add_argument("--scale", help="comma-separated corpus sizes: first run and re-poll only, no stages")
    parser.add_argument("--no-stages", action="store_true", help="skip the stage-alone runs")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--min-gap", type=float, help="fetch.min_gap in the config (default: the product's 0.5 s "
                        "per host); 0 models every feed on a host of its own")
    parser.add_argument("--one-host", action="store_true", help="serve every feed from 127.0.0.1, one host "
                        "(the worst case for the politeness gap) instead of one loopback host per agency")
    parser.add_argument("--memory-runs", type=int, default=1, help="first runs with PSS sampled, after the "
                        "timed repeats (PSS sampling slows a run, so it is measured apart); 0 skips them")
    parser.add_argument("--tree", type=Path, help="run wirenews from this checkout instead (a proposed change)")
    args, extra = parser.parse_known_args(argv)
    logging.basicConfig(level=logging.WARNING, force=True)
    print(f"machine: {describe_machine()}", flush=True)
    sizes = [int(s) for s in args.scale.split(",")] if args.scale else [args.articles]
    results = {}
    for size in sizes:
        rows, memory = bench_size(size, args.feeds, args.repeat, args.es,
                                  stages=not (args.scale or args.no_stages), extra=extra, seed=args.seed,
                                  report=_print_row, tree=args.tree, min_gap=args.min_gap,
                                  one_host=args.one_host, memory_runs=args.memory_runs)
        results[size] = {"summary": summarize(rows, memory), "rows": rows, "memory_runs": memory}
        s = results[size]["summary"]
        print(f"median of {s['repeats']}: {size} articles on {s['hosts']} host(s), first run {s['first_s']:.1f} s "
              f"= {s['e2e_per_s']:.1f}/s, "
              f"re-poll {s['repoll_s']:.1f} s = {s['repoll_share']:.1%} of the first, "
              f"peak RSS sum {s['peak_rss_mb']:.0f} MB; memory run: peak PSS {s['peak_pss_mb']:.0f} MB", flush=True)
        if "ratio" in s:
            print(f"  slowest stage alone: {s['slowest']} {s['stages'][s['slowest']]['per_s']:.1f}/s; "
                  f"end to end / slowest = {s['ratio']:.2f} (target >= 0.8)", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"machine": describe_machine(), "one_host": args.one_host,
                                         "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
