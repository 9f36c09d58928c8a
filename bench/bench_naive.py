"""The baseline a team would write itself, against ``wirenews run`` on the same corpus.

    .venv/bin/python bench/bench_naive.py [--articles 2000] [--feeds 50] [--repeat 3]

The baseline is one process, one article at a time: ``urllib`` fetch, ``feedparser.parse`` of the
bytes, a regex clean (tags, entities, the Xinhua/portal/Reuters/AP trailers, the dateline),
``nlp(text)`` with the full ``en_core_web_sm`` pipeline (every component, as ``spacy.load`` gives it),
then one ``elasticsearch.helpers.bulk`` into an index with dynamic mapping. Both are timed as whole
processes (interpreter start to exit), interleaved per repeat; the ratio is taken within each repeat.

Both fetch the same URLs: by default each agency's feeds from a loopback host of its own (127.0.0.2,
127.0.0.3, ...; ``bench.common.serve_corpus``), so the product's per-host politeness gap applies within
an agency only; ``--one-host`` serves every feed from 127.0.0.1, the worst case for ``wirenews run``
(the baseline has no gap). The layout is printed and recorded with each row (``hosts``).
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
import tempfile
import time
import urllib.request
import uuid
from contextlib import ExitStack
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

TAG = re.compile(r"<[^>]+>")
TRAILERS = re.compile(r"\s*(Enditem|Endi|\(END\)|Go to Forum >>\d+ Comment\(s\)|Share \| Print \| E-mail"
                      r"|\(Reporting by [^)]*\)|Associated Press writer .*contributed to this report\.|___)\s*$")
DATELINE = re.compile(r"^[A-Z][A-Za-z .]+(, \w+\.? \d+)? \((Xinhua|Reuters|AP|AFP|Yonhap)\) (--|-|\u2014) ")
KEPT = {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT"}


def naive_clean(raw: str) -> str:
    paragraphs = [html.unescape(TAG.sub("", p)).strip() for p in re.split(r"</p>|\n\n", raw)]
    paragraphs = [p for p in (TRAILERS.sub("", p) for p in paragraphs) if p]
    if paragraphs:
        paragraphs[0] = DATELINE.sub("", paragraphs[0])
    return "\n\n".join(paragraphs)


def naive_run(feed_urls: list[str], index: str, es_url: str) -> int:
    """The whole baseline; returns the number of documents written."""
    import feedparser
    import spacy
    from elasticsearch import Elasticsearch, helpers

    from transforms.entities.model import resolve_model_path

    nlp = spacy.load(resolve_model_path("en_core_web_sm"))  # the full pipeline
    actions: list[dict[str, Any]] = []
    for url in feed_urls:
        with urllib.request.urlopen(url, timeout=30) as resp:
            parsed = feedparser.parse(resp.read(), response_headers=dict(resp.headers))
        for entry in parsed.entries:
            raw = entry.get("content", [{}])[0].get("value") or entry.get("summary", "")
            text = naive_clean(raw)
            doc = nlp(text)
            entities = sorted({(e.text, e.label_) for e in doc.ents if e.label_ in KEPT})
            actions.append({"_index": index, "_id": entry.get("id") or entry.link, "_source": {
                "title": entry.get("title", ""), "body": text, "url": entry.get("link"),
                "published": entry.get("published"), "entities": [{"name": n, "type": t} for n, t in entities]}})
    client = Elasticsearch(es_url, request_timeout=60)
    written, _ = helpers.bulk(client, actions)
    client.close()
    return written


def compare(articles: int, feeds: int, repeat: int, es_url: str, seed: int,
            min_gap: float | None = None, one_host: bool = False) -> list[dict[str, Any]]:
    """``repeat`` pairs of runs, baseline and ``wirenews run`` over the same URLs, alternating which goes first."""
    from bench.corpus import write_corpus

    rows = []
    with tempfile.TemporaryDirectory(prefix="wirenews-naive-") as tmp, ExitStack() as stack:
        files = write_corpus(Path(tmp) / "feeds", articles, feeds, seed)
        served = stack.enter_context(serve_corpus(Path(tmp) / "feeds", files, one_host=one_host))
        print(f"  {articles} articles, {len(files)} feeds: {served.describe()}", flush=True)
        (Path(tmp) / "urls.json").write_text(json.dumps([served.urls[f.name] for f in files]))
        for r in range(repeat):
            alias = f"bench-naive-{uuid.uuid4().hex[:8]}"
            cfg = write_config(Path(tmp) / "cfg.yaml", served.urls, files, f"{alias}-wn", es_url,
                               min_gap=min_gap)
            runs = [("naive", [sys.executable, __file__, "--worker", str(Path(tmp) / "urls.json"), alias]),
                    ("wirenews", [*wirenews_cmd(), "run", "-c", str(cfg), *BEAM_2_WORKERS])]
            if r % 2:
                runs.reverse()
            row: dict[str, Any] = dict(served.layout)
            try:
                for name, cmd in runs:
                    result = run_measured([*cmd, *(["--es", es_url] if name == "naive" else [])], cwd=REPO)
                    if result.returncode != 0:
                        raise RuntimeError(f"{name} exited {result.returncode}: {result.output[-3000:]}")
                    row[name] = result.seconds
                    row[f"{name}_docs"] = count_docs(alias if name == "naive" else f"{alias}-wn", es_url)
                    row[f"{name}_rss_mb"] = result.peak_rss_mb
            finally:
                drop_alias(alias, es_url)
            row["speedup"] = row["naive"] / row["wirenews"]
            row["load"] = describe_machine()["load"]
            print(f"  naive {row['naive']:.1f} s ({row['naive_docs']} docs, {row['naive_rss_mb']:.0f} MB RSS), "
                  f"wirenews {row['wirenews']:.1f} s ({row['wirenews_docs']} docs, "
                  f"{row['wirenews_rss_mb']:.0f} MB RSS): {row['speedup']:.2f}x, load {row['load']}", flush=True)
            rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_corpus_arguments(parser)
    parser.add_argument("--min-gap", type=float, help="fetch.min_gap of the wirenews run (default: 0.5 s per host; "
                        "the baseline has no politeness gap at all)")
    parser.add_argument("--one-host", action="store_true", help="serve every feed from 127.0.0.1, one host "
                        "(the worst case for the politeness gap) instead of one loopback host per agency")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--worker", nargs=2, metavar=("URLS_JSON", "INDEX"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        started = time.perf_counter()
        written = naive_run(json.loads(Path(args.worker[0]).read_text()), args.worker[1], args.es)
        print(f"naive: {written} documents in {time.perf_counter() - started:.1f} s")
        return 0
    print(f"machine: {describe_machine()}", flush=True)
    rows = compare(args.articles, args.feeds, args.repeat, args.es, args.seed, args.min_gap, args.one_host)
    print(f"median of {len(rows)} on {rows[0]['hosts']} host(s): naive {median([r['naive'] for r in rows]):.1f} s, "
          f"wirenews {median([r['wirenews'] for r in rows]):.1f} s, wirenews faster by "
          f"{median([r['speedup'] for r in rows]):.2f}x (target >= 2)")
    if args.json:
        args.json.write_text(json.dumps({"machine": describe_machine(), "one_host": args.one_host,
                                         "hosts": rows[0]["hosts"], "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
