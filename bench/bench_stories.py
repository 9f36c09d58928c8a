"""The hashing cost of story clustering per story, and the alternatives it was chosen over.

Bodies are the bench corpus's generated stories (about 400 words), cleaned by the clean stage. Each row
is the median of ``--repeat`` passes over the same bodies, in CPU microseconds per story:

- ``shingles``: tokens and 4-word shingles alone (what every variant pays);
- ``datasketch-128``: ``Hasher.signature``, the one the pipeline uses (datasketch MinHash, 128 values,
  ``update_batch``) plus the marks;
- ``datasketch-256``: the same with 256 values;
- ``datasketch-update``: 128 values fed one shingle at a time with ``MinHash.update`` (the naive use);
- ``datasketch-bulk``: ``MinHash.bulk`` over the whole batch (shares the permutations; no marks);
- ``numpy-128``: the same algorithm written directly in numpy with CRC-32 as the shingle hash;
- ``band-keys``: cutting a 128-value signature into 42 band keys.

``--pipeline`` measures what clustering costs a whole run instead: ``wirenews run`` over the bench corpus
(bench/corpus.py with ``--copies`` of its stories carried again by other feeds), once with
``stories.enabled: false`` and once with the default (on), each on a fresh alias, in alternating order per
repeat; the ratio on/off is taken within each repeat and the median reported (the goal: at most 1.10).
On a shared machine wall time swings with the neighbours' load, so each repeat also gives the ratio of CPU
seconds, the run's process tree plus the Elasticsearch node's own (the index and story requests the run
hands to it). It also counts the stories the "on" run made against the stories the corpus holds.

    .venv/bin/python bench/bench_stories.py --stories 500 --repeat 3
    .venv/bin/python bench/bench_stories.py --pipeline --articles 2000 --copies 0.2 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from datasketch import MinHash

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import AGENCIES, make_story  # noqa: E402
from transforms.article import Article  # noqa: E402
from transforms.cleaning import Cleaner, clean_article  # noqa: E402
from transforms.stories import Hasher  # noqa: E402
from transforms.stories.text import shingles, tokens  # noqa: E402


def bodies(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    cleaner = Cleaner.from_dir()
    out = []
    for i in range(n):
        agency = AGENCIES[i % len(AGENCIES)]
        story = make_story(rng, agency, i)
        art = Article(id=story.guid, guid=story.guid, url=story.guid, canonical_url=story.guid, title=story.title,
                      content_html=story.html, agency=agency.name, source_domain=agency.domain)
        out.append(clean_article(art, cleaner).text)
    return out


class NumpyMinHash:
    """MinHash by hand: CRC-32 per shingle, then ``(a*h + b) mod p`` per permutation, the minimum kept."""

    PRIME = (1 << 61) - 1

    def __init__(self, num_perm: int = 128, seed: int = 1) -> None:
        gen = np.random.RandomState(seed)
        self.a = gen.randint(1, 1 << 32, size=num_perm, dtype=np.uint64)
        self.b = gen.randint(0, 1 << 32, size=num_perm, dtype=np.uint64)

    def signature(self, text: str) -> np.ndarray:
        hv = np.fromiter((zlib.crc32(s) for s in shingles(tokens(text))), dtype=np.uint64)
        return (((hv[:, None] * self.a + self.b) % self.PRIME) & 0xFFFFFFFF).min(axis=0)


def timed(fn: Callable[[], object], n: int, repeat: int) -> float:
    """CPU time of this process per story (the machine is shared: wall time would count others' work)."""
    runs = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        runs.append(time.process_time() - start)
    return statistics.median(runs) / n * 1e6


def stories_in_index(alias: str, es_url: str) -> int:
    from transforms.elastic import EsSettings, make_client

    client = make_client(EsSettings(hosts=[es_url], index=alias, local=False))
    try:
        client.indices.refresh(index=alias)
        resp = client.search(index=alias, size=0, aggs={"s": {"cardinality": {"field": "story.id"}}})
        return int(resp["aggregations"]["s"]["value"])
    finally:
        client.close()


def pipeline_on_off(articles: int, feeds: int, copies: float, repeat: int, es_url: str, seed: int = 7) -> dict:
    """``wirenews run`` with clustering off and on, alternating, on fresh aliases; see the module docstring."""
    import yaml

    from bench.bench_pipeline import wirenews_run
    from bench.common import drop_alias, es_cpu_seconds, load_average, serve_corpus, write_config
    from bench.corpus import write_corpus

    rows = []
    with tempfile.TemporaryDirectory(prefix="wirenews-bench-stories-") as tmp:
        workdir = Path(tmp)
        files = write_corpus(workdir / "feeds", articles, feeds, seed, copies)
        originals = sum(1 for f in files for s in f.stories if "/copy-" not in s.guid)
        with serve_corpus(workdir / "feeds", files) as served:
            for r in range(repeat):
                row: dict = {}
                for mode in (("off", "on") if r % 2 == 0 else ("on", "off")):
                    alias = f"bench-stories-{mode}-{uuid.uuid4().hex[:8]}"
                    cfg = write_config(workdir / f"{alias}.yaml", served.urls, files, alias, es_url)
                    raw = yaml.safe_load(cfg.read_text())
                    raw["stories"] = {"enabled": mode == "on"}
                    cfg.write_text(yaml.safe_dump(raw, sort_keys=False))
                    try:
                        es_before = es_cpu_seconds(es_url)
                        row[mode] = wirenews_run(cfg, [])
                        row[mode]["es_cpu_s"] = es_cpu_seconds(es_url) - es_before
                        row[mode]["all_cpu_s"] = row[mode]["cpu_s"] + row[mode]["es_cpu_s"]
                        if mode == "on":
                            row["stories_made"] = stories_in_index(alias, es_url)
                    finally:
                        drop_alias(alias, es_url)
                row["ratio"] = row["on"]["seconds"] / row["off"]["seconds"]
                row["cpu_ratio"] = row["on"]["all_cpu_s"] / row["off"]["all_cpu_s"]
                print(f"  repeat {r + 1}: off {row['off']['seconds']:.1f} s, on {row['on']['seconds']:.1f} s, "
                      f"on/off {row['ratio']:.3f}; CPU-s with Elasticsearch's off {row['off']['all_cpu_s']:.0f}, "
                      f"on {row['on']['all_cpu_s']:.0f} (Elasticsearch {row['off']['es_cpu_s']:.0f} / "
                      f"{row['on']['es_cpu_s']:.0f}), on/off {row['cpu_ratio']:.3f}; "
                      f"{row['stories_made']} stories made of {originals}; load {load_average()}", flush=True)
                rows.append(row)
    return {"articles": articles, "copies": copies, "stories_in_corpus": originals, "rows": rows,
            "ratio_median": statistics.median(r["ratio"] for r in rows),
            "cpu_ratio_median": statistics.median(r["cpu_ratio"] for r in rows)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pipeline", action="store_true", help="whole runs with clustering off and on")
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--copies", type=float, default=0.2)
    parser.add_argument("--es", default="http://127.0.0.1:9200")
    args = parser.parse_args(argv)
    if args.pipeline:
        result = pipeline_on_off(args.articles, args.feeds, args.copies, args.repeat, args.es)
        print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=1))
        return 0
    texts = bodies(args.stories)
    n = len(texts)
    h128, h256 = Hasher(), Hasher(num_perm=256, bands=64, rows=4)
    perms = h128._permutations
    by_hand = NumpyMinHash()

    def naive() -> None:
        for t in texts:
            m = MinHash(num_perm=128, seed=h128.seed, permutations=perms, scheme="affine32")
            for s in shingles(tokens(t)):
                m.update(s)

    sigs = [h128.signature(t) for t in texts]
    rows = {
        "shingles": timed(lambda: [shingles(tokens(t)) for t in texts], n, args.repeat),
        "datasketch-128": timed(lambda: [h128.signature(t) for t in texts], n, args.repeat),
        "datasketch-256": timed(lambda: [h256.signature(t) for t in texts], n, args.repeat),
        "datasketch-update": timed(naive, n, args.repeat),
        "datasketch-bulk": timed(lambda: MinHash.bulk([list(shingles(tokens(t))) for t in texts], num_perm=128,
                                                      seed=h128.seed, scheme="affine32"), n, args.repeat),
        "numpy-128": timed(lambda: [by_hand.signature(t) for t in texts], n, args.repeat),
        "band-keys": timed(lambda: [h128.band_keys(s) for s in sigs], n, args.repeat),
    }
    words = statistics.mean(len(t.split()) for t in texts)
    print(json.dumps({"stories": n, "words_per_story": round(words), "us_per_story": {k: round(v, 1)
                                                                                     for k, v in rows.items()}},
                     indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
