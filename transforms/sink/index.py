"""Stage 6, index: Beam wrappers around the plain sink in ``transforms.es_sink``.

Read like Beam's ``WriteToMongoDB``: ``WriteToElasticsearch.expand`` chains a
DoFn that turns elements into ``IndexRequest``s (deterministic ``_id``) and a
writer DoFn that buffers, flushes by count and bytes and at bundle end, and
reports metrics. Clients are made in ``setup`` (they do not pickle) and nothing
relies on ``teardown``.

Input of ``WriteToElasticsearch``: a PCollection of ``Article`` (converted
with ``to_document``), of ``IndexRequest``, or of ``(doc_id, document)`` or
``(doc_id, document, feed)`` tuples. Output: a PCollection of dead-letter
records (dicts: ``doc_id``, ``feed``, ``error.{type,reason,status}``,
``@timestamp``, ``attempts``, ``document``), already stored in the dead-letter
index (or the local NDJSON file). Elements no document can be built from
(an Article without an id) become dead-letter records too.

``SkipUnchanged`` sits before the entity stage: one ``mget`` per batch reads the
stored ``content_hash`` and ``first_seen_at``; an article whose hash is stored
already is dropped (no tagging, no write), a changed one keeps its
``first_seen_at``.
"""

from __future__ import annotations

import collections
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.timestamp import MIN_TIMESTAMP
from apache_beam.utils.windowed_value import WindowedValue

from transforms.article import Article
from transforms.elastic import EsSettings, make_client
from transforms.resources import product_version
from transforms.sink.bulk import (
    ElasticsearchSink,
    Encoded,
    IndexRequest,
    StoredLookup,
    WriteReport,
    deadletter_record,
    encode,
)
from transforms.sink.document import document_id, to_document

log = logging.getLogger(__name__)

NAMESPACE = "wirenews"


def feed_namespace(feed: str) -> str:
    return f"{NAMESPACE}.feed.{feed or 'unknown'}"


def to_request(element: Any, pipeline_version: str, now: datetime | None = None) -> IndexRequest:
    """An Article, IndexRequest or (id, doc) tuple as an IndexRequest."""
    if isinstance(element, IndexRequest):
        return element
    if isinstance(element, Article):
        return IndexRequest(document_id(element), to_document(element, pipeline_version=pipeline_version, now=now),
                            element.feed_name)
    if isinstance(element, tuple) and len(element) in (2, 3) and isinstance(element[1], dict):
        feed = element[2] if len(element) == 3 else ""
        return IndexRequest(str(element[0]), element[1], str(feed or ""))
    raise TypeError(f"WriteToElasticsearch takes Article, IndexRequest or (id, doc), not {type(element).__name__}")


def invalid_record(element: Any, error: Exception) -> dict[str, Any]:
    """A dead-letter record for an element no document could be built from."""
    if isinstance(element, Article):
        doc_id, feed, document = element.id, element.feed_name, element.to_dict()
    else:
        doc_id, feed, document = "", "", {"repr": repr(element)[:10000]}
    record = deadletter_record(Encoded(IndexRequest(doc_id, document, feed), b""), "",
                               {"type": "invalid_article", "reason": f"{type(error).__name__}: {error}"}, 0)
    record["index"] = None
    return record


class _ToRequestFn(beam.DoFn):
    """Element -> IndexRequest; an element no document can be built from goes to the ``invalid`` output."""

    def __init__(self, pipeline_version: str) -> None:
        self.pipeline_version = pipeline_version or product_version()

    def process(self, element: Any):
        try:
            yield to_request(element, self.pipeline_version, datetime.now(timezone.utc))
        except (ValueError, TypeError, KeyError) as e:
            yield beam.pvalue.TaggedOutput("invalid", invalid_record(element, e))


class _Counters:
    """Beam metrics of the sink; per-feed counters live in ``wirenews.feed.<name>``."""

    def __init__(self) -> None:
        self.new = Metrics.counter(NAMESPACE, "articles_new")
        self.updated = Metrics.counter(NAMESPACE, "articles_updated")
        self.retried = Metrics.counter(NAMESPACE, "articles_retried")
        self.dead = Metrics.counter(NAMESPACE, "articles_dead_lettered")
        self.latency = Metrics.distribution(NAMESPACE, "bulk_latency_ms")

    def record(self, report: WriteReport) -> None:
        self.new.inc(len(report.created))
        self.updated.inc(len(report.updated))
        self.retried.inc(report.retried)
        self.dead.inc(len(report.dead_letters))
        for ms in report.bulk_latency_ms:
            self.latency.update(ms)
        for requests, name in ((report.created, "new"), (report.updated, "updated")):
            per_feed: dict[str, int] = {}
            for r in requests:
                per_feed[r.feed] = per_feed.get(r.feed, 0) + 1
            for feed, n in per_feed.items():
                Metrics.counter(feed_namespace(feed), name).inc(n)
        for rec in report.dead_letters:
            Metrics.counter(feed_namespace(rec.get("feed") or ""), "dead_lettered").inc()


class _WriteFn(beam.DoFn):
    """Buffers encoded requests; sends a batch at the count or byte cap and waits for all at bundle end.

    Up to ``sink.concurrency`` batches are in flight on worker threads; reports
    (metrics, dead letters) are handled on the bundle's thread, as Beam wants.
    """

    def __init__(self, settings: EsSettings, sink_options: dict[str, Any]) -> None:
        self.settings = settings
        self.sink_options = sink_options
        self.sink: ElasticsearchSink | None = None
        self.pool: ThreadPoolExecutor | None = None
        self.buffer: list[Encoded] = []
        self.buffered_bytes = 0
        self.origins: dict[str, tuple[Any, Any]] = {}
        self.in_flight: collections.deque[Future[WriteReport]] = collections.deque()

    def setup(self) -> None:
        self.sink = ElasticsearchSink(
            make_client(self.settings), self.settings.index, deadletter_index=self.settings.deadletter_index,
            max_docs=self.settings.bulk_max_docs, max_bytes=self.settings.bulk_max_bytes,
            max_retries=self.settings.max_retries, **self.sink_options)
        self.pool = ThreadPoolExecutor(self.sink.concurrency, thread_name_prefix="es-sink")
        self.counters = _Counters()

    def start_bundle(self) -> None:
        self.buffer, self.buffered_bytes, self.origins = [], 0, {}
        self.in_flight = collections.deque()

    def teardown(self) -> None:  # best effort only: everything was flushed in finish_bundle
        if self.pool is not None:
            self.pool.shutdown(wait=False)
        if self.sink is not None:
            self.sink.client.close()

    def process(self, request: IndexRequest, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam):
        item = encode(request)
        if self.buffer and (len(self.buffer) >= self.settings.bulk_max_docs
                            or self.buffered_bytes + item.size > self.settings.bulk_max_bytes):
            yield from self._send(wait_all=False)
        self.buffer.append(item)
        self.buffered_bytes += item.size
        self.origins[request.id] = (timestamp, window)

    def finish_bundle(self):
        for record in self._send(wait_all=True):
            ts, win = self.origins.get(record["doc_id"], (MIN_TIMESTAMP, GlobalWindow()))
            yield WindowedValue(record, ts, [win])
        self.origins = {}

    def _send(self, wait_all: bool):
        """Submit the buffer; collect finished batches (all of them when ``wait_all``); yield dead letters."""
        assert self.sink is not None and self.pool is not None
        if self.buffer:
            batch, self.buffer, self.buffered_bytes = self.buffer, [], 0
            self.in_flight.append(self.pool.submit(self.sink.write_batch, batch))
        while self.in_flight and (wait_all or len(self.in_flight) >= self.sink.concurrency):
            report = self.in_flight.popleft().result()
            self.counters.record(report)
            yield from report.dead_letters


class _StoreDeadLettersFn(beam.DoFn):
    """Stores dead-letter records made before the write (invalid elements), passing them on."""

    def __init__(self, settings: EsSettings, sink_options: dict[str, Any]) -> None:
        self.settings = settings
        self.sink_options = sink_options
        self.buffer: list[dict[str, Any]] = []

    def setup(self) -> None:
        self.sink = ElasticsearchSink(make_client(self.settings), self.settings.index,
                                      deadletter_index=self.settings.deadletter_index, **self.sink_options)
        self.counters = _Counters()

    def start_bundle(self) -> None:
        self.buffer = []

    def teardown(self) -> None:
        if getattr(self, "sink", None) is not None:
            self.sink.client.close()

    def process(self, record: dict[str, Any]):
        self.buffer.append(record)
        yield record

    def finish_bundle(self) -> None:
        if self.buffer:
            records, self.buffer = self.buffer, []
            self.sink.store_dead_letters(records)
            self.counters.record(WriteReport(dead_letters=records))


class WriteToElasticsearch(beam.PTransform):
    """Index articles into ``settings.index`` (the alias); returns the dead-letter records.

    ``sink_options`` go to ``ElasticsearchSink`` (``concurrency``: bulk requests in
    flight per writer, default 4; ``backoff_initial``, ``backoff_max``,
    ``deadletter_path``); caps and retry limit come from ``settings``.
    """

    def __init__(self, settings: EsSettings, *, pipeline_version: str = "", **sink_options: Any) -> None:
        super().__init__()
        self.settings = settings
        self.pipeline_version = pipeline_version or product_version()
        self.sink_options = sink_options

    def expand(self, pcoll):
        requests = pcoll | "ToIndexRequest" >> beam.ParDo(_ToRequestFn(self.pipeline_version)).with_outputs(
            "invalid", main="requests")
        written = requests.requests | "BulkWrite" >> beam.ParDo(_WriteFn(self.settings, self.sink_options))
        invalid = requests.invalid | "StoreInvalid" >> beam.ParDo(_StoreDeadLettersFn(self.settings,
                                                                                      self.sink_options))
        return (written, invalid) | "DeadLetters" >> beam.Flatten()


class _SkipUnchangedFn(beam.DoFn):
    """Buffers articles, looks their stored hashes up in one mget, passes on new and changed ones."""

    def __init__(self, settings: EsSettings, batch_size: int, lookup_options: dict[str, Any]) -> None:
        self.settings = settings
        self.batch_size = batch_size
        self.lookup_options = lookup_options
        self.buffer: list[tuple[Article, Any, Any]] = []

    def setup(self) -> None:
        self.lookup = StoredLookup(make_client(self.settings), self.settings.index,
                                   max_retries=self.settings.max_retries, **self.lookup_options)
        self.unchanged = Metrics.counter(NAMESPACE, "articles_unchanged")

    def start_bundle(self) -> None:
        self.buffer = []

    def teardown(self) -> None:
        if getattr(self, "lookup", None) is not None:
            self.lookup.client.close()

    def process(self, article: Article, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam):
        self.buffer.append((article, timestamp, window))
        if len(self.buffer) >= self.batch_size:
            for art, _, _ in self._flush():
                yield art

    def finish_bundle(self):
        for art, ts, win in self._flush():
            yield WindowedValue(art, ts, [win])

    def _flush(self):
        if not self.buffer:
            return
        batch, self.buffer = self.buffer, []
        stored = self.lookup.lookup(sorted({a.id for a, _, _ in batch}))
        for (original, ts, win), art in zip(batch, select_changed([a for a, _, _ in batch], stored), strict=True):
            if art is None:
                self.unchanged.inc()
                Metrics.counter(feed_namespace(original.feed_name), "articles_unchanged").inc()
            else:
                yield art, ts, win


def select_changed(articles: list[Article], stored: dict[str, dict[str, Any]]) -> list[Article | None]:
    """Per article: None when unchanged, else the article to write (a changed one keeps its ``first_seen_at``).

    An article seen twice in one batch with the same hash is written once.
    """
    out: list[Article | None] = []
    seen: set[tuple[str, str]] = set()
    for art in articles:
        prior = stored.get(art.id)
        if art.content_hash and ((prior and prior.get("content_hash") == art.content_hash)
                                 or (art.id, art.content_hash) in seen):
            out.append(None)
            continue
        seen.add((art.id, art.content_hash))
        if prior and prior.get("first_seen_at") and prior["first_seen_at"] != art.first_seen_at:
            art = replace(art, first_seen_at=prior["first_seen_at"])
        out.append(art)
    return out


class SkipUnchanged(beam.PTransform):
    """PCollection[Article] -> PCollection[Article]: drops articles whose stored content hash is the same."""

    def __init__(self, es: EsSettings, *, batch_size: int = 500, **lookup_options: Any) -> None:
        super().__init__()
        self.es = es
        self.batch_size = batch_size
        self.lookup_options = lookup_options

    def expand(self, pcoll):
        return pcoll | "LookupStoredHashes" >> beam.ParDo(
            _SkipUnchangedFn(self.es, self.batch_size, self.lookup_options))
