"""The same stories through `wirenews run` on each runner, side by side in one run.

Runners: the local runner with two workers (the reference), Prism (Beam's portable local runner, its
workers inside the wirenews process), and Dask with one and with two worker processes (one thread each)
against a scheduler on 127.0.0.1. Each measurement gets a fresh alias, so every run indexes everything;
each Dask measurement gets a freshly started cluster, so no worker has Beam or the model loaded before
its run starts (as the local runner's workers do not). The runners take turns within each repeat.

Goal (issue 21): Dask with two workers at least 0.9x the local runner's throughput with two.

Wall time is the whole `wirenews run` command (what an operator waits for); CPU is sampled for the
command's own process tree only, so Dask's workers (separate processes) are not in it.

    .venv/bin/python bench/bench_runners.py --articles 2000 --feeds 50 --repeat 3 --es http://127.0.0.1:9200
    .venv/bin/python bench/bench_runners.py --articles 200 --feeds 10 --repeat 1     # a quick look
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    BEAM_2_WORKERS,
    DEFAULT_ES,
    REPO,
    count_docs,
    describe_machine,
    drop_alias,
    load_average,
    median,
    run_measured,
    serve_corpus,
    wirenews_cmd,
    write_config,
)
from bench.corpus import write_corpus  # noqa: E402

RUNNERS = ("local-2", "prism", "dask-1", "dask-2")


def measure(runner: str, cfg_for: Any, es_url: str, articles: int) -> dict[str, Any]:
    """One `wirenews run` of the whole corpus on ``runner`` into a fresh alias."""
    from tests.daskcluster import DaskCluster

    alias = f"bench-runners-{runner}-{uuid.uuid4().hex[:6]}"
    cfg = cfg_for(alias)
    cluster = None
    try:
        if runner == "local-2":
            extra = BEAM_2_WORKERS
        elif runner == "prism":
            extra = ["--runner=PrismRunner"]
        else:
            cluster = DaskCluster(workers=int(runner.split("-")[1])).start()
            extra = ["--runner=DaskRunner", f"--dask_client_address={cluster.address}"]
        result = run_measured([*wirenews_cmd(), "run", "-c", str(cfg), *extra], cwd=REPO)
        if result.returncode != 0:
            raise RuntimeError(f"{runner}: wirenews run exited {result.returncode}:\n{result.output[-3000:]}")
        indexed = count_docs(alias, es_url)
    finally:
        if cluster is not None:
            cluster.stop()
        drop_alias(alias, es_url)
    return {"runner": runner, "seconds": round(result.seconds, 2), "indexed": indexed,
            "per_s": round(articles / result.seconds, 1), "launcher_cpu_s": round(result.cpu_seconds, 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=2000)
    ap.add_argument("--feeds", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--es", default=DEFAULT_ES, help="Elasticsearch URL (default %(default)s)")
    ap.add_argument("--runners", default=",".join(RUNNERS), help="comma-separated subset of " + ", ".join(RUNNERS))
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args(argv)
    runners = [r for r in args.runners.split(",") if r]
    unknown = set(runners) - set(RUNNERS)
    if unknown:
        ap.error(f"unknown runner(s): {', '.join(sorted(unknown))}")

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-runners-") as tmp:
        work = Path(tmp)
        files = write_corpus(work / "corpus", articles=args.articles, feeds=args.feeds)
        articles = sum(len(f.stories) for f in files)
        with serve_corpus(work / "corpus", files) as served:
            print(f"{articles} stories in {len(files)} feeds, {served.describe()}; load {load_average()}",
                  flush=True)

            def cfg_for(alias: str) -> Path:
                return write_config(work / f"{alias}.yaml", served.urls, files, alias, args.es)

            for repeat in range(args.repeat):
                for runner in runners:
                    row = measure(runner, cfg_for, args.es, articles) | {"repeat": repeat + 1}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    summary = summarize(rows, articles)
    print(render(summary))
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": describe_machine(), "articles": articles,
                                               "rows": rows, "summary": summary}, indent=2))
    return 0


def summarize(rows: list[dict[str, Any]], articles: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for runner in dict.fromkeys(r["runner"] for r in rows):
        seconds = median([r["seconds"] for r in rows if r["runner"] == runner])
        out[runner] = {"median_s": round(seconds, 2), "per_s": round(articles / seconds, 1),
                       "all_indexed": all(r["indexed"] == articles for r in rows if r["runner"] == runner)}
    reference = out.get("local-2")
    for figures in out.values():
        if reference:
            figures["vs_local_2"] = round(reference["median_s"] / figures["median_s"], 2)
    return out


def render(summary: dict[str, Any]) -> str:
    lines = [f"{'runner':<9} {'median s':>9} {'stories/s':>10} {'x local-2':>10}  all indexed"]
    for runner, f in summary.items():
        lines.append(f"{runner:<9} {f['median_s']:>9} {f['per_s']:>10} {f.get('vs_local_2', '-'):>10}  "
                     f"{f['all_indexed']}")
    if "dask-2" in summary and "vs_local_2" in summary["dask-2"]:
        ratio = summary["dask-2"]["vs_local_2"]
        lines.append(f"goal: dask-2 >= 0.9x local-2 throughput: {ratio}x, {'met' if ratio >= 0.9 else 'not met'}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
