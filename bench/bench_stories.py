"""The hashing cost of story clustering per story, and the alternatives it was chosen over.

Bodies are the bench corpus's generated stories (about 400 words), cleaned by the clean stage. Each row
is the median of ``--repeat`` passes over the same bodies, in microseconds per story:

- ``shingles``: tokens and 4-word shingles alone (what every variant pays);
- ``datasketch-128``: ``Hasher.signature``, the one the pipeline uses (datasketch MinHash, 128 values,
  ``update_batch``) plus the marks;
- ``datasketch-256``: the same with 256 values;
- ``datasketch-update``: 128 values fed one shingle at a time with ``MinHash.update`` (the naive use);
- ``datasketch-bulk``: ``MinHash.bulk`` over the whole batch (shares the permutations; no marks);
- ``numpy-128``: the same algorithm written directly in numpy with CRC-32 as the shingle hash;
- ``band-keys``: cutting a 128-value signature into 42 band keys.

    .venv/bin/python bench/bench_stories.py --stories 500 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
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
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs) / n * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
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
