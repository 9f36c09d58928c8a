"""Peak memory of ``wirenews run`` at two corpus sizes: does it grow with the corpus?

    .venv/bin/python bench/bench_memory.py --sizes 2000,8000 [--feeds 50] [--repeat 1] [--tree /work/main]

Each figure is one first run on a fresh alias with the PSS of the whole process tree sampled every 0.2 s
(``bench_pipeline.memory_run``: the same corpus, loopback hosts, config and Beam options as its memory
run). The feeds stay the same in number, so at the larger size every feed carries more stories, as a
busier agency's would. ``--tree DIR`` measures another checkout beside this one, alternating, so both
see the same machine. Goal: peak at the largest size no higher than at the smallest.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_pipeline import memory_run  # noqa: E402
from bench.common import DEFAULT_ES, REPO, add_corpus_arguments, describe_machine, median, serve_corpus  # noqa: E402
from bench.corpus import write_corpus  # noqa: E402


def peak_memory(articles: int, *, feeds: int = 50, es_url: str = DEFAULT_ES, tree: Path | None = None,
                seed: int = 7, min_gap: float | None = None, extra: list[str] | None = None,
                series: Path | None = None) -> float:
    """Peak PSS in MB of the process tree of one first ``wirenews run`` over ``articles`` stories in ``feeds``;
    ``series``: also write each sample's PSS per process (seconds, [MB, launcher first]) to this JSON file."""
    with tempfile.TemporaryDirectory(prefix="wirenews-bench-") as tmp:
        workdir = Path(tmp)
        files = write_corpus(workdir / "feeds", articles, feeds, seed)
        with serve_corpus(workdir / "feeds", files) as served:
            run = memory_run(files, served.urls, workdir, es_url, extra=list(extra or []), tree=tree,
                             min_gap=min_gap)
    if run["indexed"] != articles:
        raise RuntimeError(f"{run['indexed']} of {articles} stories indexed: the peak of a run that lost stories "
                           "measures nothing")
    if series is not None:
        series.write_text(json.dumps(run["series"]))
    print(f"    per process, launcher first (MB): at the tree's peak {run['pss_at_peak']}, "
          f"each one's own peak {run['own_peak_pss']}", flush=True)
    return float(run["peak_pss_mb"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,8000", help="comma-separated corpus sizes, smallest first")
    add_corpus_arguments(parser, repeat=1, articles=False)
    parser.add_argument("--tree", type=Path, help="also measure this checkout (e.g. the code before a change)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--series", type=Path, help="a folder for each run's PSS over time, per process")
    args, extra = parser.parse_known_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    trees: list[Path | None] = [args.tree, None] if args.tree else [None]
    figures: dict[str, dict[int, list[float]]] = {str(t or REPO): {n: [] for n in sizes} for t in trees}
    print(f"machine: {describe_machine()}", flush=True)
    for _ in range(args.repeat):
        for n in sizes:
            for tree in trees:
                series = None
                if args.series:
                    args.series.mkdir(parents=True, exist_ok=True)
                    series = args.series / f"{(tree or REPO).name}-{n}-{len(figures[str(tree or REPO)][n])}.json"
                mb = peak_memory(n, feeds=args.feeds, es_url=args.es, tree=tree, seed=args.seed, extra=extra,
                                 series=series)
                figures[str(tree or REPO)][n].append(mb)
                print(f"  {tree or REPO}: {n} stories, peak PSS {mb:.0f} MB, load {describe_machine()['load']}",
                      flush=True)
    for tree, by_size in figures.items():
        mid = {n: median(v) for n, v in by_size.items()}
        print(f"{tree}: peak PSS " + ", ".join(f"{mid[n]:.0f} MB at {n}" for n in sizes)
              + f"; largest / smallest {mid[sizes[-1]] / mid[sizes[0]]:.3f} (goal <= 1)", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"machine": describe_machine(), "peak_pss_mb": figures}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
