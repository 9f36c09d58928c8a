"""The throughput, re-poll and memory goals in one run, each against its reference side by side.

    .venv/bin/python bench/bench_goals.py [--articles 2000] [--large 8000] [--feeds 50] [--repeat 1]

Per repeat, on the seeded corpus of ``bench/corpus.py`` (fresh alias each time, dropped afterwards):

1. Many hosts (one loopback host per agency): ``wirenews run`` (first run) and the same command again over
   the unchanged feeds (re-poll); then spaCy NER alone on the same texts -- the corpus parsed and cleaned
   as the pipeline does (``bench_ner.cleaned_texts``), then a fresh ``python`` that loads the same
   NER-only model with spaCy's own ops, as spaCy comes, and runs ``nlp.pipe`` over each title and body
   with ``n_process=2`` -- timed as a whole process (start, model load, tagging, exit), like the run.
   Speed = NER-alone seconds / first-run seconds (stories/s of the run over stories/s of NER alone).
   Goal >= 1.3.
2. One host (every feed on 127.0.0.1): first run and re-poll. Goal: re-poll <= 10% of the first run.
3. Memory: a first run with PSS of the whole process tree sampled, at ``--articles`` and at ``--large``
   stories. Goal: peak at the large size no higher than at the small one (within 5%, the spread of
   repeated memory runs of one size).

Ratios are taken within a repeat; medians over repeats are reported with the load average.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_memory import peak_memory  # noqa: E402
from bench.bench_ner import cleaned_texts, texts_of  # noqa: E402
from bench.bench_pipeline import one_repeat  # noqa: E402
from bench.common import REPO, add_corpus_arguments, describe_machine, median, run_measured, serve_corpus  # noqa: E402
from bench.corpus import write_corpus  # noqa: E402

NER_BATCH = 64
SPEED_GOAL, REPOLL_GOAL, MEMORY_SLACK = 1.3, 0.10, 1.05


def ner_alone_main(path: Path, workers: int) -> int:
    """Entry of the reference process: the model the tagger loads, NER only and spaCy's own ops (spaCy as it
    comes), over the texts in ``path``."""
    from transforms.entities.model import load_nlp

    texts = json.loads(path.read_text())
    nlp = load_nlp(matmul=False)
    ents = sum(len(doc.ents) for doc in nlp.pipe(texts, batch_size=NER_BATCH, n_process=workers))
    print(f"entities {ents}")
    return 0


def ner_alone(texts: list[str], workdir: Path, workers: int = 2) -> dict[str, float]:
    """NER alone as a whole process (start, model load, ``nlp.pipe``, exit), like ``wirenews run``."""
    path = workdir / "ner-texts.json"
    path.write_text(json.dumps(texts))
    result = run_measured([sys.executable, str(Path(__file__).resolve()), "--ner-alone", str(path),
                           "--workers", str(workers)], cwd=REPO, env={"PYTHONPATH": str(REPO)})
    if result.returncode != 0:
        raise RuntimeError(f"NER alone exited {result.returncode}:\n{result.output[-2000:]}")
    return {"seconds": result.seconds, "cpu_s": result.cpu_seconds, "peak_rss_mb": result.peak_rss_mb}


def run_repeat(articles: int, feeds: int, seed: int, es_url: str, extra: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="wirenews-goals-") as tmp:
        workdir = Path(tmp)
        files = write_corpus(workdir / "feeds", articles, feeds, seed)
        row: dict[str, Any] = {"articles": articles, "load_start": describe_machine()["load"]}
        with serve_corpus(workdir / "feeds", files) as served:
            many = one_repeat(files, served.urls, workdir, es_url, stages=False, extra=extra)
        row["many_hosts"] = {"hosts": served.layout["hosts"],
                             "first_s": many["first"]["seconds"], "repoll_s": many["repoll"]["seconds"],
                             "repoll_share": many["repoll_share"], "indexed": many["indexed"]}
        texts = texts_of(cleaned_texts(articles, feeds, seed))
        row["ner_alone"] = ner_alone(texts, workdir)
        row["ner_alone"]["texts"] = len(texts)
        row["speed"] = row["ner_alone"]["seconds"] / many["first"]["seconds"]
        row["stories_per_s"] = articles / many["first"]["seconds"]
        row["ner_alone_per_s"] = articles / row["ner_alone"]["seconds"]
        with serve_corpus(workdir / "feeds", files, one_host=True) as served:
            one = one_repeat(files, served.urls, workdir, es_url, stages=False, extra=extra)
        row["one_host"] = {"first_s": one["first"]["seconds"], "repoll_s": one["repoll"]["seconds"],
                           "repoll_share": one["repoll_share"], "indexed": one["indexed"]}
        row["load_end"] = describe_machine()["load"]
    return row


def _mark(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_corpus_arguments(parser, repeat=1)
    parser.add_argument("--large", type=int, default=8000, help="the second size of the memory goal")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory runs")
    parser.add_argument("--ner-alone", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=2, help=argparse.SUPPRESS)
    args, extra = parser.parse_known_args(argv)
    if args.ner_alone:
        return ner_alone_main(args.ner_alone, args.workers)
    logging.basicConfig(level=logging.WARNING, force=True)
    print(f"machine: {describe_machine()}", flush=True)
    started = time.perf_counter()
    rows = []
    for i in range(args.repeat):
        row = run_repeat(args.articles, args.feeds, args.seed, args.es, extra)
        rows.append(row)
        print(f"repeat {i + 1}: run {row['many_hosts']['first_s']:.1f} s ({row['stories_per_s']:.1f} stories/s), "
              f"NER alone {row['ner_alone']['seconds']:.1f} s ({row['ner_alone_per_s']:.1f}/s): "
              f"speed {row['speed']:.2f}x; re-poll many hosts {row['many_hosts']['repoll_share']:.1%}, "
              f"one host {row['one_host']['repoll_share']:.1%} "
              f"({row['one_host']['repoll_s']:.1f} s of {row['one_host']['first_s']:.1f} s); "
              f"load {row['load_start']} -> {row['load_end']}", flush=True)
    memory = []
    if not args.no_memory:
        for size in (args.articles, args.large):
            run = {"articles": size, "peak_pss_mb": peak_memory(size, feeds=args.feeds, es_url=args.es,
                                                                seed=args.seed, extra=extra),
                   "load": describe_machine()["load"]}
            memory.append(run)
            print(f"memory: {size} stories, peak PSS {run['peak_pss_mb']:.0f} MB, load {run['load']}", flush=True)
    speed = median([r["speed"] for r in rows])
    one = median([r["one_host"]["repoll_share"] for r in rows])
    many = median([r["many_hosts"]["repoll_share"] for r in rows])
    print(f"\nmedian of {len(rows)} repeat(s), {args.articles} stories in {args.feeds} feeds:")
    print(f"  stories/s against NER alone on the same texts: {speed:.2f}x (goal >= {SPEED_GOAL}): "
          f"{_mark(speed >= SPEED_GOAL)}")
    print(f"  re-poll share, one host: {one:.1%} (goal <= {REPOLL_GOAL:.0%}): {_mark(one <= REPOLL_GOAL)}; "
          f"many hosts: {many:.1%}")
    summary: dict[str, Any] = {"speed": speed, "repoll_one_host": one, "repoll_many_hosts": many}
    if memory:
        small, large = memory[0]["peak_pss_mb"], memory[1]["peak_pss_mb"]
        print(f"  peak PSS: {small:.0f} MB at {args.articles}, {large:.0f} MB at {args.large} "
              f"(goal: no higher, within {MEMORY_SLACK - 1:.0%}): {_mark(large <= small * MEMORY_SLACK)}")
        summary.update(peak_small_mb=small, peak_large_mb=large)
    print(f"  ({time.perf_counter() - started:.0f} s in all)")
    if args.json:
        args.json.write_text(json.dumps({"machine": describe_machine(), "summary": summary, "rows": rows,
                                         "memory": memory}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
