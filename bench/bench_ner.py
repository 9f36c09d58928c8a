"""The entity stage against spaCy's NER alone on the same cleaned texts, and the tree before a change beside it.

    .venv/bin/python bench/bench_ner.py --articles 2000 --repeat 3 [--tree /work/main] [--json FILE]

Every repeat runs, in turn and on the same texts (the generated corpus of ``bench/corpus.py`` read and cleaned
as the pipeline does): ``ner_alone``, spaCy's NER as it comes (``nlp.pipe``, NER only, thinc's own ops,
``n_process`` processes); the tagger of this tree (``Tagger.tag_many`` in a pool of ``workers`` processes,
batches of 64 stories, the DoFn's batch); and, with ``--tree``, the tagger of another checkout the same way.
Each prints its wall seconds, stories/s and the ratio to NER alone within the repeat, with the load average,
and the pools their CPU seconds (steadier than wall time on a loaded machine); the pools run in the reverse
order every other repeat.
The pools time the work only (the model loads before the clock, as in ``bench_pipeline``'s stages alone);
``ner_alone`` times ``nlp.pipe`` from its call to its last doc, so spaCy's own worker start is inside; "in the
pool" is the same NER alone run like the taggers (work only): the ratio with nothing but the work on either side.

Also printed: the share of words in paragraphs already seen earlier in the run (what a cache of tagged
paragraphs could skip), on the corpus and on real copy (``../shared/corpora/articles/fundus``, read in place).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import pickle
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
FUNDUS = REPO.parent / "shared" / "corpora" / "articles" / "fundus"
BATCH = 64  # stories per task: the DoFn's batch

Item = tuple[str, str, "str | None"]  # (title, cleaned text, language hint)


def _on_path(tree: Path) -> None:
    if str(tree) not in sys.path:
        sys.path.insert(0, str(tree))


def cleaned_texts(articles: int = 2000, feeds: int = 50, seed: int = 7, copies: float = 0.0) -> list[Item]:
    """The generated corpus as the entity stage receives it: each feed parsed, each story cleaned."""
    _on_path(REPO)
    from bench.corpus import generate
    from transforms.article import FeedSpec
    from transforms.cleaning.cleaner import Cleaner, clean_article
    from transforms.sources.bodies import parse_body

    cleaner, now, out = Cleaner.from_dir(), datetime.now(timezone.utc), []
    for feed in generate(articles, feeds, seed, copies):
        url = f"http://127.0.0.1/{feed.filename}"
        for article in parse_body(feed.render(), {}, FeedSpec(feed.name, url, feed.agency), url, now).articles:
            article = clean_article(article, cleaner)
            out.append((article.title, article.text, article.language_hint))
    return out


def texts_of(items: Iterable[Item]) -> list[str]:
    """Titles and bodies, as the tagger sends them to the model."""
    return [text for title, body, _ in items for text in (title or "", body or "")]


def ner_alone(texts: list[str], n_process: int = 2, batch_size: int = BATCH) -> float:
    """Seconds of spaCy's NER alone over ``texts``: en_core_web_sm with NER only and thinc's own ops, as spaCy
    comes, ``nlp.pipe(n_process=...)``; the model loads before the clock, spaCy's workers start inside it."""
    _on_path(REPO)
    from transforms.entities.model import load_nlp

    nlp = load_nlp(matmul=False)
    started = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=batch_size, n_process=n_process):
        pass
    return time.perf_counter() - started


# -- a tagger in a pool, in any checkout ------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _setup(what: str) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING, force=True)
    if what == "ner":  # spaCy as it comes (this tree's loader with matmul=False)
        from transforms.entities.model import load_nlp

        _WORKER["nlp"] = load_nlp(matmul=False)
        list(_WORKER["nlp"].pipe(["Officials in Paris met the World Bank."]))
        return
    from transforms.entities.tagger import Tagger

    _WORKER["tagger"] = Tagger.load()
    _WORKER["tagger"].tag_many([("Warm-up", "Officials in Paris met the World Bank.")])


def _ready(_: int) -> bool:
    time.sleep(0.5)
    return True


def _tag(batch: list[Item]) -> tuple[int, float]:
    started = time.process_time()
    if "nlp" in _WORKER:
        docs = _WORKER["nlp"].pipe(texts_of(batch), batch_size=BATCH)
        return sum(len(doc.ents) for doc in docs), time.process_time() - started
    results = _WORKER["tagger"].tag_many([(t, b) for t, b, _ in batch], hints=[h for _, _, h in batch])
    return sum(len(r.entities) for r in results), time.process_time() - started


def tagger_pool(items: list[Item], workers: int = 2, what: str = "tagger") -> dict[str, float]:
    """``Tagger.tag_many`` of the checkout first on ``sys.path`` over ``items`` in batches of 64 stories; with
    ``what="ner"``, spaCy's NER alone over the same batches (its titles and bodies, ``nlp.pipe``)."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_setup, initargs=(what,)) as pool:
        pool.map(_ready, range(workers), chunksize=1)
        started, entities, cpu = time.perf_counter(), 0, 0.0
        batches = [items[i : i + BATCH] for i in range(0, len(items), BATCH)]
        for found, spent in pool.imap_unordered(_tag, batches, chunksize=1):
            entities, cpu = entities + found, cpu + spent
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "cpu_s": cpu, "entities": entities}


def tagger_in_tree(tree: Path, items_file: Path, workers: int, what: str = "tagger") -> dict[str, float]:
    """``tagger_pool`` run by a fresh interpreter with ``tree``'s code (this file, that tree's ``transforms``)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(items_file), "--tree", str(tree),
         "--workers", str(workers), "--what", what], cwd=tree, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"tagger in {tree} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- repeated paragraphs --------------------------------------------------------------------------------


def repeat_share(bodies: Iterable[str]) -> dict[str, float]:
    """Paragraphs (and their words) already seen earlier in the sequence of bodies: what a cache could skip."""
    seen: set[str] = set()
    paragraphs = repeated = words = repeated_words = 0
    for body in bodies:
        for paragraph in (p.strip() for p in body.split("\n")):
            if not paragraph:
                continue
            size = len(paragraph.split())
            paragraphs, words = paragraphs + 1, words + size
            if paragraph in seen:
                repeated, repeated_words = repeated + 1, repeated_words + size
            seen.add(paragraph)
    return {"paragraphs": paragraphs, "repeated": repeated / max(paragraphs, 1),
            "repeated_words": repeated_words / max(words, 1)}


def fundus_bodies() -> list[str]:
    """Bodies of the fundus pages with ground truth (real publishers' copy), read in place; [] when absent."""
    bodies = []
    for path in sorted(FUNDUS.glob("*/*.json")):
        for page in json.loads(path.read_text(encoding="utf-8")).values():
            body = page.get("body") or {}
            paragraphs = list(body.get("summary") or [])
            for section in body.get("sections") or []:
                paragraphs += list(section.get("headline") or []) + list(section.get("paragraphs") or [])
            bodies.append("\n".join(paragraphs))
    return bodies


def paragraph_context(bodies: list[str], nlp: Any) -> dict[str, int]:
    """Kept-type spans of the model over each whole body against the same model over its paragraphs one by one
    (offsets moved back into the body): what tagging only some paragraphs would change, before any gating."""
    kept = {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT"}
    whole = [{(e.start_char, e.end_char, e.label_) for e in doc.ents if e.label_ in kept} for doc in nlp.pipe(bodies)]
    lost = new = differing = 0
    for body, expected in zip(bodies, whole, strict=True):
        pieces = [(m.start(), m.group(0)) for m in re.finditer(r"[^\n]+", body)]
        alone = {(e.start_char + start, e.end_char + start, e.label_)
                 for (start, _), doc in zip(pieces, nlp.pipe(p for _, p in pieces), strict=True)
                 for e in doc.ents if e.label_ in kept}
        lost, new = lost + len(expected - alone), new + len(alone - expected)
        differing += alone != expected
    return {"bodies": len(bodies), "spans": sum(map(len, whole)), "lost": lost, "new": new, "differing": differing}


def gateable_share(bodies: Iterable[str]) -> float:
    """Share of words in paragraphs whose only capitals open a sentence with a stop word ("The", "She"): the
    paragraphs a gate could leave out of the model."""
    from spacy.lang.en.stop_words import STOP_WORDS

    def gateable(paragraph: str) -> bool:
        for match in re.finditer(r"\b[A-Z][\w'\u2019-]*", paragraph):
            before = paragraph[: match.start()].rstrip()
            if (before and before[-1] not in ".!?:\"\u201c\u201d(\u2018'-\u2013\u2014") or \
                    match.group(0).lower() not in STOP_WORDS:
                return False
        return True

    paragraphs = [p for body in bodies for p in body.split("\n") if p.strip()]
    words = sum(len(p.split()) for p in paragraphs)
    return sum(len(p.split()) for p in paragraphs if gateable(p)) / max(words, 1)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def compare_paragraphs(articles: int) -> int:
    """The labelled paragraphs, real copy and the corpus: whole bodies against paragraphs one by one."""
    _on_path(REPO)
    from bench.entity_spans import load_items
    from transforms.entities.model import load_nlp

    nlp = load_nlp()
    sets = {"labelled (tests/data/entities/spans)": [i.text for i in load_items() if i.language == "en"],
            "corpus": [body for _, body, _ in cleaned_texts(articles, 50)]}
    if FUNDUS.is_dir():
        sets["fundus (real copy)"] = fundus_bodies()
    for name, bodies in sets.items():
        found = paragraph_context(bodies, nlp)
        print(f"{name}: {found['bodies']} bodies, {found['spans']} spans over whole bodies; paragraph by paragraph "
              f"{found['lost']} lost, {found['new']} new, {found['differing']} bodies differ; "
              f"{gateable_share(bodies):.1%} of words in paragraphs a stop-word gate could skip")
    return 0


def main(argv: list[str] | None = None) -> int:
    _on_path(REPO)
    from bench.common import add_corpus_arguments

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_corpus_arguments(parser, es=False)
    parser.add_argument("--workers", type=int, default=2, help="processes of each run (n_process of NER alone)")
    parser.add_argument("--tree", type=Path, help="another checkout whose tagger runs beside this one")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--paragraphs", action="store_true",
                        help="only compare the model over whole bodies and over their paragraphs one by one")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--what", default="tagger", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:  # a fresh interpreter for one tree: its transforms first on the path
        _on_path(args.tree or REPO)
        items = pickle.loads(args.child.read_bytes())
        print(json.dumps(tagger_pool(items, args.workers, args.what)))
        return 0

    if args.paragraphs:
        return compare_paragraphs(args.articles)
    items = cleaned_texts(args.articles, args.feeds, args.seed)
    words = sum(len(t.split()) for t in texts_of(items))
    shares = {"corpus": repeat_share(b for _, b, _ in items)}
    if FUNDUS.is_dir():
        shares["fundus (real copy)"] = repeat_share(fundus_bodies())
    for name, share in shares.items():
        print(f"repeated paragraphs, {name}: {share['repeated']:.2%} of {share['paragraphs']} paragraphs, "
              f"{share['repeated_words']:.2%} of words")
    print(f"{len(items)} stories, {words} words (titles and bodies), {args.workers} processes, batches of {BATCH}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        items_file = Path(tmp) / "items.pickle"
        items_file.write_bytes(pickle.dumps(items))
        for repeat in range(args.repeat):
            row: dict[str, Any] = {"load_before": load_average()}
            runs = {"ner_pool": (REPO, "ner"), "tagger": (REPO, "tagger")}
            if args.tree:
                runs["tagger_tree"] = (args.tree.resolve(), "tagger")
            order = list(runs) if repeat % 2 == 0 else list(reversed(runs))  # a load that drifts hits both ends
            row["ner_alone_s"] = ner_alone(texts_of(items), args.workers)
            for name in order:
                found = tagger_in_tree(runs[name][0], items_file, args.workers, runs[name][1])
                row[f"{name}_s"], row[f"{name}_cpu"] = found["seconds"], found["cpu_s"]
            row["load_after"] = load_average()
            rows.append(row)
            line = (f"repeat {repeat + 1}: NER alone {row['ner_alone_s']:.1f} s "
                    f"({len(items) / row['ner_alone_s']:.1f} stories/s), in the pool {row['ner_pool_s']:.1f} s; "
                    f"tagger {row['tagger_s']:.1f} s ({row['ner_alone_s'] / row['tagger_s']:.2f}x NER alone, "
                    f"{row['ner_pool_s'] / row['tagger_s']:.2f}x in the pool)")
            if args.tree:
                line += (f"; {args.tree} tagger {row['tagger_tree_s']:.1f} s "
                         f"({row['ner_alone_s'] / row['tagger_tree_s']:.2f}x, "
                         f"{row['ner_pool_s'] / row['tagger_tree_s']:.2f}x in the pool); this / that "
                         f"{row['tagger_tree_s'] / row['tagger_s']:.2f}x")
            line += (f"; CPU-s in the pool: NER alone {row['ner_pool_cpu']:.0f}, tagger {row['tagger_cpu']:.0f}"
                     + (f", {args.tree} tagger {row['tagger_tree_cpu']:.0f}" if args.tree else ""))
            print(f"{line}; load {row['load_before']} -> {row['load_after']}", flush=True)

    def ratios(reference: str, key: str) -> str:
        return ", ".join(f"{r:.2f}" for r in sorted(row[reference] / row[key] for row in rows if key in row))

    alone, tagger = (statistics.median(row[key] for row in rows) for key in ("ner_alone_s", "tagger_s"))
    print(f"median: NER alone {alone:.1f} s, tagger {tagger:.1f} s. Within each repeat, tagger against NER alone: "
          f"{ratios('ner_alone_s', 'tagger_s')}; in the pool: {ratios('ner_pool_s', 'tagger_s')}")
    print(f"  CPU-s in the pool, NER alone / tagger: {ratios('ner_pool_cpu', 'tagger_cpu')}")
    if args.tree:
        print(f"  CPU-s, {args.tree} tagger / this tagger: {ratios('tagger_tree_cpu', 'tagger_cpu')}")
        print(f"  {args.tree} tagger against NER alone: {ratios('ner_alone_s', 'tagger_tree_s')}; in the pool: "
              f"{ratios('ner_pool_s', 'tagger_tree_s')}; this tagger / that: {ratios('tagger_tree_s', 'tagger_s')}")
    if args.json:
        args.json.write_text(json.dumps({"stories": len(items), "words": words, "shares": shares, "rows": rows},
                                        indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
