"""The re-poll's share of the first run, on one host and on many, this checkout beside another.

    .venv/bin/python bench/bench_repoll.py [--articles 2000] [--feeds 50] [--repeat 3] [--tree /work/main]

A re-poll is ``wirenews run`` again, at once, over feeds that have not changed: every feed should cost
one conditional GET answered ``304 Not Modified`` and nothing more. Its share (re-poll seconds / first-run
seconds, both whole processes, taken within one repeat) is what the goal is stated in. With every feed on
one host (``one_host``) the politeness gaps between those GETs add up, which is where the share is high.

The corpus, its loopback servers and the runs are those of ``bench_pipeline.py`` (``write_corpus``,
``serve_corpus``, ``wirenews_run``). The corpus declares no ``ttl`` or ``sy:updatePeriod``, so every feed
is asked again; each re-poll's summary is read back and its feeds counted as unchanged and as skipped "not
due", so a figure that a declared interval shortened would show as such (``not_due``). The time the
fetches waited at the politeness gate (``politeness_s``, summed over threads) is read from it too.

``--tree DIR`` adds runs of another checkout (e.g. the commit before a change) on the same corpus, in
turn with this one within each repeat, so the two are compared side by side on a shared, noisy machine.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_pipeline import _fresh_config, wirenews_run  # noqa: E402
from bench.common import (  # noqa: E402
    DEFAULT_ES,
    add_corpus_arguments,
    count_docs,
    describe_machine,
    drop_alias,
    load_average,
    median,
    serve_corpus,
)
from bench.corpus import FeedFile, write_corpus  # noqa: E402

log = logging.getLogger("bench")


def _summary(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def first_and_repoll(files: list[FeedFile], urls: dict[str, str], workdir: Path, es_url: str, *,
                     tree: Path | None = None, extra: list[str] | None = None) -> dict[str, Any]:
    """One first run and one re-poll on a fresh alias (dropped afterwards); seconds, share and what the
    re-poll's summary counted."""
    alias, cfg = _fresh_config("bench-repoll", files, urls, workdir, es_url, None)
    summary_path = workdir / f"{alias}-repoll.json"
    try:
        first = wirenews_run(cfg, list(extra or []), tree)
        indexed = count_docs(alias, es_url)
        repoll = wirenews_run(cfg, [*(extra or []), "--summary-json", str(summary_path)], tree)
    finally:
        drop_alias(alias, es_url)
    s = _summary(summary_path)
    totals = s.get("totals", {})
    return {"first_s": first["seconds"], "repoll_s": repoll["seconds"], "share": repoll["seconds"] / first["seconds"],
            "indexed": indexed, "feeds_unchanged": s.get("feeds", {}).get("unchanged"),
            "not_due": totals.get("feeds_skipped_not_due", 0),
            "politeness_s": totals.get("politeness_wait_ms", 0) / 1000, "load": load_average()}


def repoll_share(articles: int = 2000, feeds: int = 50, one_host: bool = True, *, es_url: str = DEFAULT_ES,
                 repeat: int = 1, seed: int = 7, tree: Path | None = None, reference: Path | None = None,
                 extra: list[str] | None = None) -> dict[str, Any]:
    """First-run seconds, re-poll seconds and the share (medians over ``repeat``), for ``tree`` (None: this
    checkout); with ``reference``, the same for that checkout too, run in turn with it on the same corpus
    (under "reference"), and the ratio of the two shares."""
    with tempfile.TemporaryDirectory(prefix="wirenews-repoll-") as tmp:
        workdir = Path(tmp)
        corpus = write_corpus(workdir / "feeds", articles, feeds, seed)
        runs: dict[str, list[dict[str, Any]]] = {"this": [], "reference": []}
        with serve_corpus(workdir / "feeds", corpus, one_host=one_host) as served:
            for _ in range(repeat):
                for key, checkout in (("this", tree), ("reference", reference)):
                    if key == "reference" and reference is None:
                        continue
                    row = first_and_repoll(corpus, served.urls, workdir, es_url, tree=checkout, extra=extra)
                    runs[key].append(row)
                    print(f"  {'this' if key == 'this' else reference}: {served.describe()}: first "
                          f"{row['first_s']:.1f} s, re-poll {row['repoll_s']:.1f} s = {row['share']:.1%} (politeness "
                          f"{row['politeness_s']:.1f} s, {row['feeds_unchanged']} unchanged, {row['not_due']} not "
                          f"due), load {row['load']}", flush=True)
            layout = served.layout
    out = {"articles": articles, "feeds": feeds, "one_host": one_host, **layout, "repeats": repeat,
           **_medians(runs["this"]), "rows": runs["this"]}
    if reference is not None:
        out["reference"] = {"tree": str(reference), **_medians(runs["reference"]), "rows": runs["reference"]}
        out["share_vs_reference"] = median([a["share"] / b["share"] for a, b in
                                            zip(runs["this"], runs["reference"], strict=True)])
    return out


def _medians(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"first_s": median([r["first_s"] for r in rows]), "repoll_s": median([r["repoll_s"] for r in rows]),
            "share": median([r["share"] for r in rows]), "politeness_s": median([r["politeness_s"] for r in rows]),
            "not_due": max((r["not_due"] for r in rows), default=0), "loads": [r["load"] for r in rows]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_corpus_arguments(parser)
    parser.add_argument("--tree", type=Path, help="also run this checkout (e.g. the commit before a change), in turn")
    parser.add_argument("--layout", choices=["one-host", "many-hosts", "both"], default="both")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    args, extra = parser.parse_known_args(argv)
    logging.basicConfig(level=logging.WARNING, force=True)
    print(f"machine: {describe_machine()}", flush=True)
    layouts = {"one-host": [True], "many-hosts": [False], "both": [True, False]}[args.layout]
    results = []
    for one_host in layouts:
        r = repoll_share(args.articles, args.feeds, one_host, es_url=args.es, repeat=args.repeat, seed=args.seed,
                         reference=args.tree, extra=extra)
        results.append(r)
        line = (f"median of {r['repeats']}: {r['articles']} articles, {r['feeds']} feeds on {r['hosts']} host(s): "
                f"first {r['first_s']:.1f} s, re-poll {r['repoll_s']:.1f} s = {r['share']:.1%} of the first "
                f"(goal on one host: <= 10%); {r['not_due']} feeds skipped as not due")
        if "reference" in r:
            ref = r["reference"]
            line += (f"\n  {ref['tree']}: first {ref['first_s']:.1f} s, re-poll {ref['repoll_s']:.1f} s = "
                     f"{ref['share']:.1%}; share this / reference = {r['share_vs_reference']:.2f}")
        print(line, flush=True)
        if args.json:
            args.json.write_text(json.dumps({"machine": describe_machine(), "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
