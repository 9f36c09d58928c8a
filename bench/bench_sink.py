"""Sink throughput against the client's own ``helpers.parallel_bulk``, same documents, same node.

    PYTHONPATH=. python bench/bench_sink.py [--docs 10000] [--rounds 7] [--es http://127.0.0.1:9200]

Each round writes the same documents into two fresh aliases (bootstrapped with
the real template), once with ``ElasticsearchSink`` and once with
``parallel_bulk`` (its defaults: 4 threads, 500 per chunk), alternating which
goes first, after one warm-up round of each. The sink runs as the pipeline
runs it: 500 per bulk, 4 in flight.
Prints documents/s of both, the best and median round of each, and the ratio:
the median of the per-round ratios (the two runs of a round are back to back,
so other load on the machine disturbs their ratio least), plus the ratios of
the medians and of the best rounds, to judge the noise. The target is a ratio
of at least 0.9.
"""

from __future__ import annotations

import argparse
import collections
import logging
import random
import statistics
import sys
import time
from datetime import datetime, timezone

from elasticsearch import helpers

from pipeline.elasticsearch.bootstrap import bootstrap
from transforms.article import Article
from transforms.elastic import EsSettings, make_client
from transforms.sink.bulk import DEFAULT_CONCURRENCY, ElasticsearchSink, IndexRequest
from transforms.sink.document import to_document

WORDS = ("government minister said talks would continue on Monday after officials from both sides met in the "
         "capital to discuss trade security and climate cooperation amid rising tensions over energy prices").split()


def make_requests(n: int, seed: int = 1) -> list[IndexRequest]:
    rng = random.Random(seed)
    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    out = []
    for i in range(n):
        body = "\n\n".join(" ".join(rng.choices(WORDS, k=rng.randint(40, 90))) for _ in range(rng.randint(3, 8)))
        people = rng.sample(["Li Wei", "Ana Silva", "John Smith", "Olaf Berg", "Amina Diallo", "Kenji Sato"], 2)
        art = Article(
            id=f"bench-{i:07d}", guid=f"urn:bench:{i}", url=f"https://news.example/{i}",
            canonical_url=f"https://news.example/{i}", title=" ".join(rng.choices(WORDS, k=9)).capitalize(),
            summary_html="<p>" + " ".join(rng.choices(WORDS, k=30)) + "</p>",
            published_at=f"2026-02-{1 + i % 28:02d}T{i % 24:02d}:00:00Z", date_source="published",
            feed_name=f"feed-{i % 7}", source_name="Bench Wire", source_domain="news.example",
            agency=rng.choice(["xinhua", "reuters", "ap", "yonhap"]), language="en", text=body,
            content_hash=f"{i:032x}", entities={"person": people, "details": [
                {"name": p, "type": "PERSON", "mentions": 2, "first_offset": 10, "in_title": False,
                 "salience": 0.5} for p in people]}, entities_status="tagged",
            cleaning={"rules": ["generic.share"], "removed_chars": 12})
        out.append(IndexRequest(art.id, to_document(art, pipeline_version="bench", now=now), art.feed_name))
    return out


def fresh(client, alias: str) -> None:
    client.indices.delete(index=f"{alias}*", ignore_unavailable=True, allow_no_indices=True)
    bootstrap(client, alias)


def run_sink(settings: EsSettings, alias: str, reqs: list[IndexRequest],
             concurrency: int = DEFAULT_CONCURRENCY) -> float:
    client = make_client(settings)
    fresh(client, alias)
    sink = ElasticsearchSink(client, alias, max_docs=settings.bulk_max_docs, max_bytes=settings.bulk_max_bytes,
                             concurrency=concurrency)
    start = time.perf_counter()
    report = sink.write(reqs)
    elapsed = time.perf_counter() - start
    assert len(report.created) == len(reqs) and not report.dead_letters, "the sink did not write everything"
    client.close()
    return len(reqs) / elapsed


def run_parallel_bulk(settings: EsSettings, alias: str, reqs: list[IndexRequest]) -> float:
    client = make_client(settings)
    fresh(client, alias)
    actions = ({"_index": alias, "_id": r.id, "_source": r.doc} for r in reqs)
    start = time.perf_counter()
    results = collections.Counter(ok for ok, _ in helpers.parallel_bulk(client, actions))
    elapsed = time.perf_counter() - start
    assert results[True] == len(reqs), "parallel_bulk did not write everything"
    client.close()
    return len(reqs) / elapsed


def run_beam(settings: EsSettings, alias: str, reqs: list[IndexRequest]) -> tuple[float, float]:
    """Seconds of a FnApiRunner pipeline that only creates the elements, and of one that also writes them.

    The difference is what WriteToElasticsearch adds; creating 10,000 large
    in-memory elements is itself slow on the FnApiRunner.
    """
    import dataclasses

    import apache_beam as beam
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    from transforms.sink.index import WriteToElasticsearch

    client = make_client(settings)
    fresh(client, alias)
    elements = [(r.id, r.doc, r.feed) for r in reqs]
    timings = []
    for write in (False, True):
        p = beam.Pipeline(runner=FnApiRunner())
        pc = p | beam.Create(elements)
        if write:
            _ = pc | WriteToElasticsearch(dataclasses.replace(settings, index=alias), pipeline_version="bench")
        else:
            _ = pc | beam.Map(lambda e: None)
        start = time.perf_counter()
        p.run().wait_until_finish()
        timings.append(time.perf_counter() - start)
    client.indices.refresh(index=alias)
    assert client.count(index=alias)["count"] == len(reqs), "the transform did not write everything"
    client.close()
    return timings[0], timings[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--es", default="http://127.0.0.1:9200")
    ap.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY,
                    help="sink batches in flight (default: as in the pipeline)")
    ap.add_argument("--beam", action="store_true", help="also time WriteToElasticsearch on the FnApiRunner, once")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, force=True)
    settings = EsSettings(hosts=[args.es], index="wirenews-bench", local=False)
    reqs = make_requests(args.docs)
    size = sum(len(str(r.doc)) for r in reqs) / len(reqs)
    print(f"{len(reqs)} documents of about {size / 1024:.1f} KiB, {args.rounds} rounds, node {args.es}; "
          f"sink: {args.concurrency} in flight, {settings.bulk_max_docs} docs per bulk; parallel_bulk: its defaults")
    print("  warm-up round (not counted)")
    run_sink(settings, "wirenews-bench-sink", reqs, concurrency=args.concurrency)
    run_parallel_bulk(settings, "wirenews-bench-parallelbulk", reqs)
    sink_rates, pb_rates = [], []
    for rnd in range(args.rounds):
        order = [("sink", lambda *a: run_sink(*a, concurrency=args.concurrency)),
                 ("parallel_bulk", run_parallel_bulk)]
        if rnd % 2:
            order.reverse()
        for name, fn in order:
            rate = fn(settings, f"wirenews-bench-{name.replace('_', '')}", reqs)
            (sink_rates if name == "sink" else pb_rates).append(rate)
            print(f"  round {rnd + 1}: {name:<14} {rate:9.0f} docs/s")
    if args.beam:
        base, with_write = run_beam(settings, "wirenews-bench-beam", reqs)
        added = max(with_write - base, 1e-9)
        print(f"  FnApiRunner: Create alone {base:.1f}s, Create + WriteToElasticsearch {with_write:.1f}s: "
              f"the write adds {added:.1f}s = {len(reqs) / added:.0f} docs/s")
    client = make_client(settings)
    client.indices.delete(index="wirenews-bench-*", ignore_unavailable=True, allow_no_indices=True)
    for alias in ("wirenews-bench-sink", "wirenews-bench-parallelbulk", "wirenews-bench-beam"):
        if client.indices.exists_index_template(name=alias):
            client.indices.delete_index_template(name=alias)
    client.close()
    best_sink, best_pb = max(sink_rates), max(pb_rates)
    print(f"sink:          best {best_sink:9.0f} docs/s, median {statistics.median(sink_rates):9.0f}")
    print(f"parallel_bulk: best {best_pb:9.0f} docs/s, median {statistics.median(pb_rates):9.0f}")
    # The two runs of a round are back to back, so their ratio is the least disturbed by other load.
    paired = statistics.median(a / b for a, b in zip(sink_rates, pb_rates, strict=True))
    medians = statistics.median(sink_rates) / statistics.median(pb_rates)
    print(f"ratio sink / parallel_bulk: {paired:.2f} (median of the per-round ratios); "
          f"medians: {medians:.2f}; best rounds: {best_sink / best_pb:.2f}; target >= 0.90")
    return 0 if paired >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
