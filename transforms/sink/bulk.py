"""The Elasticsearch sink: a plain class around the client, testable without Beam.

Why item by item: a ``_bulk`` response mixes successes, transient failures
(429, 5xx) and permanent ones (a document the mapping refuses). Only the
transient failures are sent again, with exponential backoff and jitter, up to
a limit; permanent ones become dead-letter records kept with the exact
document, written to the dead-letter index and, when even that cannot be
written, appended to a local NDJSON file. When the limit is reached for a
transient failure the write raises: a failed bundle is retried by the runner,
and the deterministic ``_id`` makes that harmless.

With the defaults (``max_retries`` 6 from EsSettings, backoff from 0.5 s doubling
up to 30 s, "equal jitter") a batch waits between about 16 and 32 seconds in
total for the cluster to come back before the write fails loudly.
"""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout, TransportError
from elasticsearch import ApiError, Elasticsearch, NotFoundError

from transforms.backoff import RETRYABLE_STATUS, backoff_delay
from transforms.elastic import is_transient

log = logging.getLogger(__name__)

DEFAULT_DEADLETTER_FILE = "wirenews-deadletter.ndjson"
DEADLETTER_FILE_ENV = "WIRENEWS_DEADLETTER_FILE"
# Bulk requests in flight per writer, as many as the client's own parallel_bulk uses threads.
DEFAULT_CONCURRENCY = 4
_FILTER_PATH = "errors,items.*.status,items.*.result,items.*.error"
@dataclass(frozen=True)
class IndexRequest:
    """One document to write: its ``_id``, the document, and the feed it came from (for metrics)."""

    id: str
    doc: dict[str, Any]
    feed: str = ""
    # A wire story's version key: the write only lands when no newer version is stored (external_gte), so a
    # version arriving late, or raced by another worker, never overwrites a newer one.
    version: int | None = None


@dataclass
class Encoded:
    """An IndexRequest serialised once: the two NDJSON lines of its ``index`` action. ``request.doc`` is then
    empty: a buffered batch held each document as objects three to four times the size of its lines (~25 MB a
    worker); ``document`` reads it back from the lines when a dead letter needs it."""

    request: IndexRequest
    payload: bytes
    attempts: int = 0

    @property
    def size(self) -> int:
        return len(self.payload)

    @property
    def document(self) -> dict[str, Any]:
        """The document: the request's own when nothing was encoded, else read back from the payload."""
        if not self.payload:
            return self.request.doc
        return json.loads(self.payload.split(b"\n", 2)[1])


@dataclass
class WriteReport:
    """What one ``write`` did; the Beam wrapper turns it into metrics."""

    created: list[IndexRequest] = field(default_factory=list)
    updated: list[IndexRequest] = field(default_factory=list)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    stale: list[IndexRequest] = field(default_factory=list)  # older versions a newer stored one refused
    retried: int = 0
    bulk_latency_ms: list[int] = field(default_factory=list)

    def merge(self, other: WriteReport) -> None:
        self.created += other.created
        self.updated += other.updated
        self.dead_letters += other.dead_letters
        self.stale += other.stale
        self.retried += other.retried
        self.bulk_latency_ms += other.bulk_latency_ms


class BulkRetriesExhausted(RuntimeError):
    """Transient failures outlived the retry limit; nothing was dead-lettered for them."""


class DeadLetterLost(RuntimeError):
    """A dead-letter record could be written neither to Elasticsearch nor to the local file."""


def encode(request: IndexRequest) -> Encoded:
    if request.version is None:
        action = b'{"index":{"_id":' + json.dumps(request.id).encode() + b"}}\n"
    else:
        action = json.dumps({"index": {"_id": request.id, "version": request.version,
                                       "version_type": "external_gte"}}).encode() + b"\n"
    doc = json.dumps(request.doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Encoded(replace(request, doc={}), action + doc + b"\n")


def batches(items: Iterable[Encoded], max_docs: int, max_bytes: int) -> Iterator[list[Encoded]]:
    """Consecutive batches of at most ``max_docs`` items and ``max_bytes`` (a larger item goes alone)."""
    batch: list[Encoded] = []
    size = 0
    for item in items:
        if batch and (len(batch) >= max_docs or size + item.size > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += item.size
    if batch:
        yield batch


def deadletter_record(item: Encoded, index: str, error: dict[str, Any], status: int,
                      now: datetime | None = None) -> dict[str, Any]:
    """The dead-letter record: the exact document, the error type and reason, the time."""
    when = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    reason = str(error.get("reason") or "")
    caused = error.get("caused_by")
    if isinstance(caused, dict) and caused.get("reason"):
        reason = f"{reason} (caused by {caused.get('type')}: {caused.get('reason')})"
    return {
        "@timestamp": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "doc_id": item.request.id,
        "index": index,
        "feed": item.request.feed or None,
        "attempts": item.attempts + 1,
        "error": {"type": str(error.get("type") or "unknown"), "reason": reason, "status": status},
        "document": item.document,
    }


def deadletter_file() -> str:
    """The local dead-letter file: ``WIRENEWS_DEADLETTER_FILE``, else a file in the working directory."""
    return os.environ.get(DEADLETTER_FILE_ENV) or DEFAULT_DEADLETTER_FILE


def deadletter_id(record: dict[str, Any]) -> str:
    """Stable per (document id, exact document), so a re-run does not pile up copies."""
    raw = json.dumps(record["document"], sort_keys=True, ensure_ascii=False).encode("utf-8")
    return f"{record['doc_id']}:{hashlib.sha256(raw).hexdigest()[:16]}"


class ElasticsearchSink:
    """Writes IndexRequests with ``_bulk`` into ``index`` (the alias); see the module docstring."""

    def __init__(
        self,
        client: Elasticsearch,
        index: str,
        *,
        deadletter_index: str | None = None,
        deadletter_path: str | None = None,
        max_docs: int = 500,
        max_bytes: int = 5 * 1024 * 1024,
        max_retries: int = 6,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        concurrency: int = DEFAULT_CONCURRENCY,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.index = index
        self.concurrency = max(1, concurrency)
        self.deadletter_index = deadletter_index
        self.deadletter_path = deadletter_path or deadletter_file()
        self.max_docs = max_docs
        self.max_bytes = max_bytes
        self.max_retries = max_retries
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.sleep = sleep
        self.rng = rng or random.Random()
        self._file_lock = threading.Lock()

    # -- the write path ----------------------------------------------------------------

    def write(self, items: Iterable[IndexRequest | Encoded]) -> WriteReport:
        """Write everything, ``concurrency`` batches in flight; raises BulkRetriesExhausted or DeadLetterLost.

        Several requests in flight keep the node busy while this side encodes the
        next batch and parses the last answer.
        """
        report = WriteReport()
        encoded = (i if isinstance(i, Encoded) else encode(i) for i in items)
        if self.concurrency == 1:
            for batch in batches(encoded, self.max_docs, self.max_bytes):
                report.merge(self.write_batch(batch))
            return report
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="es-sink") as pool:
            pending: collections.deque[Future[WriteReport]] = collections.deque()
            for batch in batches(encoded, self.max_docs, self.max_bytes):
                if len(pending) >= self.concurrency:
                    report.merge(pending.popleft().result())
                pending.append(pool.submit(self.write_batch, batch))
            while pending:
                report.merge(pending.popleft().result())
        return report

    def write_batch(self, batch: Sequence[Encoded]) -> WriteReport:
        report = WriteReport()
        pending: list[Encoded] = list(batch)
        attempt = 0
        while pending:
            retry, dead = self._send(pending, report)
            if dead:
                self.store_dead_letters(dead)
                report.dead_letters += dead
            if not retry:
                break
            attempt += 1
            if attempt > self.max_retries:
                raise BulkRetriesExhausted(
                    f"{len(retry)} documents still failing after {self.max_retries} retries "
                    f"(last: {retry[0][1]}); nothing was written for them, a re-run writes them")
            for item, _ in retry:
                item.attempts += 1
            report.retried += len(retry)
            delay = backoff_delay(attempt, self.backoff_initial, self.backoff_max, self.rng)
            log.warning("Retrying %d of %d documents in %.2fs (attempt %d of %d): %s",
                        len(retry), len(pending), delay, attempt, self.max_retries, retry[0][1])
            self.sleep(delay)
            pending = [item for item, _ in retry]
        return report

    def _send(self, items: list[Encoded], report: WriteReport
              ) -> tuple[list[tuple[Encoded, str]], list[dict[str, Any]]]:
        """One ``_bulk``; returns (items to retry with why, dead-letter records)."""
        body = b"".join(i.payload for i in items)
        started = time.perf_counter()
        try:
            resp = self.client.bulk(operations=body, index=self.index, filter_path=_FILTER_PATH)
        except (TransportConnectionError, ConnectionTimeout) as e:
            return [(i, f"connection: {type(e).__name__}") for i in items], []
        except ApiError as e:
            status = e.meta.status
            if status in RETRYABLE_STATUS:
                return [(i, f"HTTP {status}") for i in items], []
            if status == 413:
                if len(items) > 1:  # too large for the node: halve rather than give up
                    half = len(items) // 2
                    for part in (items[:half], items[half:]):
                        report.merge(self.write_batch(part))
                    return [], []
                err = {"type": "request_too_large", "reason": "the document alone exceeds http.max_content_length"}
                return [], [deadletter_record(items[0], self.index, err, 413)]
            raise  # 400/401/403 for the whole request: a setup problem, fail loudly
        finally:
            report.bulk_latency_ms.append(int((time.perf_counter() - started) * 1000))
        body_items = resp.body.get("items") or []
        if len(body_items) != len(items):
            raise TransportError(f"_bulk answered {len(body_items)} items for {len(items)} sent")
        retry: list[tuple[Encoded, str]] = []
        dead: list[dict[str, Any]] = []
        for item, result in zip(items, body_items, strict=True):
            res = result.get("index") or next(iter(result.values()))
            status = int(res.get("status", 0))
            if 200 <= status < 300:
                (report.created if res.get("result") == "created" else report.updated).append(item.request)
            elif status in RETRYABLE_STATUS:
                err = res.get("error") or {}
                retry.append((item, f"{status} {err.get('type', '')}".strip()))
            elif status == 409 and item.request.version is not None:
                report.stale.append(item.request)  # a newer version of the story is stored: nothing to write
            else:
                dead.append(deadletter_record(item, self.index, res.get("error") or {}, status))
        return retry, dead

    # -- dead letters -------------------------------------------------------------------

    def store_dead_letters(self, records: list[dict[str, Any]]) -> None:
        """To the dead-letter index (bounded retries), else the local NDJSON file; never silently lost."""
        for r in records:
            log.error("Dead letter: document %s from feed %s refused: %s: %s", r["doc_id"], r.get("feed"),
                      r["error"]["type"], r["error"]["reason"][:500])
        left = records
        if self.deadletter_index:
            left = self._deadletters_to_index(records)
        if left:
            self._deadletters_to_file(left)

    def _deadletters_to_index(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        lines: list[bytes] = []
        for r in records:
            lines.append(json.dumps({"index": {"_id": deadletter_id(r)}}).encode())
            lines.append(json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        body = b"\n".join(lines) + b"\n"
        for attempt in range(1, 4):
            try:
                resp = self.client.bulk(operations=body, index=self.deadletter_index, filter_path=_FILTER_PATH)
                items = resp.body.get("items") or []
                if len(items) == len(records):
                    failed = [r for r, it in zip(records, items, strict=True)
                              if not 200 <= next(iter(it.values()))["status"] < 300]
                    if failed:
                        log.error("%d dead-letter records refused by %s", len(failed), self.deadletter_index)
                    return failed
            except (TransportError, ApiError) as e:
                log.warning("Dead-letter index %s not writable (attempt %d): %s", self.deadletter_index,
                            attempt, type(e).__name__)
            self.sleep(backoff_delay(attempt, self.backoff_initial, self.backoff_max, self.rng))
        return records

    def _deadletters_to_file(self, records: list[dict[str, Any]]) -> None:
        try:
            with self._file_lock, open(self.deadletter_path, "a", encoding="utf-8") as f:
                for r in records:
                    f.write(json.dumps({**r, "_id": deadletter_id(r)}, ensure_ascii=False) + "\n")
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            raise DeadLetterLost(f"{len(records)} dead-letter records could not be written to the index nor to "
                                 f"{self.deadletter_path}: {e}") from e
        log.error("%d dead-letter records written to %s", len(records), self.deadletter_path)


class StoredLookup:
    """Stored ``content_hash``, ``first_seen_at`` and a wire story's version keys by ``_id``, one ``mget`` a batch."""

    FIELDS = ("content_hash", "first_seen_at", "wire.version_key", "wire.version_keys")

    def __init__(self, client: Elasticsearch, index: str, *, max_retries: int = 6, backoff_initial: float = 0.5,
                 backoff_max: float = 30.0, sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None) -> None:
        self.client = client
        self.index = index
        self.max_retries = max_retries
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.sleep = sleep
        self.rng = rng or random.Random()

    def lookup(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """{id: {content_hash, first_seen_at}} for the ids that are stored; unknown ids are absent."""
        if not ids:
            return {}
        attempt = 0
        while True:
            try:
                resp = self.client.mget(index=self.index, ids=list(ids), source_includes=list(self.FIELDS),
                                        realtime=True)
                break
            except NotFoundError:
                return {}  # the index does not exist yet: everything is new
            except (TransportConnectionError, ConnectionTimeout, ApiError) as e:
                if not is_transient(e):
                    raise
                attempt += 1
                if attempt > self.max_retries:
                    raise BulkRetriesExhausted(f"mget of {len(ids)} ids failed {attempt} times: "
                                               f"{type(e).__name__}") from e
                self.sleep(backoff_delay(attempt, self.backoff_initial, self.backoff_max, self.rng))
        found: dict[str, dict[str, Any]] = {}
        for d in resp.body.get("docs") or []:
            if d.get("found"):
                found[d["_id"]] = d.get("_source") or {}
        return found


def reached_index(client: Elasticsearch, index: str, deadletter_index: str, ids: Sequence[str], *,
                  chunk: int = 1000) -> set[str]:
    """Of ``ids``, those the index holds or that were dead-lettered: the stories that got somewhere.

    What the feed state's commit checks, from Elasticsearch alone: whatever a runner reports (or loses),
    a story is only taken as done when it can be found.
    """
    found: set[str] = set()
    lookup = StoredLookup(client, index)
    has_dead_letters = bool(client.indices.exists(index=deadletter_index))
    if has_dead_letters:
        client.indices.refresh(index=deadletter_index)
    for start in range(0, len(ids), chunk):
        part = list(ids[start:start + chunk])
        found |= set(lookup.lookup(part))
        rest = [i for i in part if i not in found]
        if rest and has_dead_letters:
            resp = client.search(index=deadletter_index, size=0, query={"terms": {"doc_id": rest}},
                                 aggs={"ids": {"terms": {"field": "doc_id", "size": len(rest)}}})
            found |= {b["key"] for b in resp["aggregations"]["ids"]["buckets"]}
    return found
