"""FeedSpec -> Articles: fetch, parse, optional full text, feed state, counters.

``process_feed`` is the whole stage for one feed as a plain function (tested without Beam);
of a changed feed it passes on only the entries that are new or changed since the last poll (their
hashes are kept in the feed state), so a busy feed does not re-send, or re-fetch pages for, the fifty
stories it still lists. Deleting the feed-state index makes the next run read everything again.
``ReadFeeds`` is the thin PTransform around it. Clients are made in ``setup()``; the feed state is read
per feed and written as soon as that feed is done, so a run stopped half-way keeps what it learnt.

Politeness (one request at a time per host, a minimum gap) is per worker process: the fetch threads of a
worker share one gate, parallel workers in different processes each keep their own, so a host sees at most
one request per process at a time.
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
import threading
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.utils.windowed_value import WindowedValue

from transforms.article import Article, FeedSpec
from transforms.feed_state import FeedState, FeedStateStore, for_feed, on_failure, on_success
from transforms.fetch import FetchResult, fetch_feed
from transforms.http_client import HttpClient
from transforms.parse import parse_feed

log = logging.getLogger(__name__)

NAMESPACE = "wirenews"


@dataclass
class FeedOutcome:
    """What one poll of one feed produced; ``counts`` are the "wirenews" counters to add."""

    status: str  # fetched | unchanged | failed | skipped
    articles: list[Article] = field(default_factory=list)
    state: FeedState | None = None
    counts: Counter = field(default_factory=Counter)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (url, kind, message)


def process_feed(feed: FeedSpec, state: FeedState | None, http: HttpClient | None, now: datetime, *,
                 full_text: Any = None, rng: random.Random | None = None, **fetch_kwargs: Any) -> FeedOutcome:
    """One poll of ``feed``: every step that can fail is caught and named, so other feeds never notice."""
    state = for_feed(state, feed.name, feed.url)
    results = fetch_feed(feed, state, http, now, rng=rng, **fetch_kwargs)
    out = FeedOutcome(status="unchanged", state=state)
    if results and results[0].status == "skipped":
        out.status = "skipped"
        out.counts["feeds_skipped"] += 1
        log.info("feed %s: skipped: %s", feed.name, results[0].error)
        return out
    ok: list[FetchResult] = []
    retry_after = None
    entry_hashes: dict[str, str] | None = None
    for res in results:
        if res.status == "failed":
            out.errors.append((res.url, res.error_kind or "unknown", res.error or ""))
            retry_after = max(retry_after or 0.0, res.retry_after) if res.retry_after else retry_after
            continue
        if res.status == "unchanged":
            ok.append(res)
            continue
        parsed = parse_feed(res.body, res.headers, feed, res.url, now)
        if parsed.bozo:
            out.counts["feeds_bozo"] += 1
            out.counts[f"bozo_{bozo_kind(parsed.bozo)}"] += 1
            log.info("feed %s: ill-formed (%s), %d entries recovered", feed.name, parsed.bozo, len(parsed.articles))
        if parsed.skipped_entries:
            out.counts["entries_skipped"] += parsed.skipped_entries
        if parsed.error_kind:
            out.errors.append((res.url, parsed.error_kind, parsed.error or ""))
            continue
        fresh = parsed.articles
        if not res.is_file:  # a file's own hash already stands for its entries
            hashes = {a.id: entry_hash(a) for a in parsed.articles}
            fresh = [a for a in parsed.articles if state.entry_hashes.get(a.id) != hashes[a.id]]
            entry_hashes = hashes
            out.counts["articles_unchanged"] += len(parsed.articles) - len(fresh)
        out.counts["articles_parsed"] += len(parsed.articles)
        if full_text is not None and feed.full_text:
            for art in fresh:
                full_text(art)
        out.articles.extend(fresh)
        ok.append(res)
    for url, kind, message in out.errors:
        out.counts[f"feed_errors_{kind}"] += 1
        log.warning("feed %s: %s: %s (%s)", feed.name, kind, message, url)
    if out.errors and not ok:
        url, kind, message = out.errors[0]
        out.status = "failed"
        out.state = on_failure(state, now, feed.poll_interval, kind, message, retry_after=retry_after, rng=rng)
    else:
        out.status = "fetched" if any(r.status == "fetched" for r in ok) else "unchanged"
        http_res = next((r for r in ok if not r.is_file), None)
        file_hashes = {r.url: r.body_hash for r in ok if r.is_file and r.body_hash} or None
        out.state = on_success(
            state, now, feed.poll_interval, changed=out.status == "fetched",
            etag=http_res.headers.get("etag") if http_res else None,
            last_modified=http_res.headers.get("last-modified") if http_res else None,
            body_hash=http_res.body_hash if http_res else None,
            permanent_url=http_res.permanent_url if http_res else None,
            file_hashes=file_hashes, entry_hashes=entry_hashes)
        if http_res and http_res.permanent_url and http_res.permanent_url != state.permanent_url:
            log.info("feed %s: moved permanently to %s", feed.name, http_res.permanent_url)
    out.counts[f"feeds_{out.status}"] += 1
    return out


def bozo_kind(reason: str) -> str:
    """A counter-friendly name for feedparser's reason: "SAXParseException: ..." -> "sax_parse_exception"."""
    name = reason.split(":", 1)[0].strip() or "unknown"
    return re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", name).lower().replace(" ", "_")


def entry_hash(article: Article) -> str:
    """What makes an entry worth passing on again: its feed-side content, before any full text."""
    key = "\x00".join([article.title, article.url, article.summary_html, article.content_html,
                       article.published_at or "", article.updated_at or "", "|".join(article.authors),
                       "|".join(article.categories)])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class ReadOptions:
    """What ReadFeeds was asked for, handed to its DoFn as one value."""

    es: Any | None
    max_bytes: int = 10_000_000
    timeout: float = 30.0
    user_agent: str | None = None
    min_gap: float | None = None
    full_text: bool = True
    defer_state: bool = False
    concurrency: int = 8


class _ReadFeedFn(beam.DoFn):
    """Polls feeds on a small thread pool while the stages after it work on the feeds already read.

    Without it a worker sleeps out every politeness gap with nothing to do. Feeds are queued per host and
    each host's queue is drained by one pool thread at a time, so threads never stand in line at a host's
    gate while another host could be fetched. Articles are emitted in the order the polls finish, from
    ``process`` and at the latest in ``finish_bundle``; at most ``2 x concurrency`` feeds are read ahead.
    Counters are incremented on the bundle's thread, because Beam keeps metrics per thread.
    """

    def __init__(self, options: ReadOptions) -> None:
        self.options = options

    def setup(self) -> None:
        o = self.options
        self.http = HttpClient(user_agent=o.user_agent, max_bytes=o.max_bytes, timeout=o.timeout, min_gap=o.min_gap,
                               pool_maxsize=o.concurrency)
        self.store = None
        if o.es is not None:
            from pipeline.es_client import make_client

            self.store = FeedStateStore(make_client(o.es), o.es.state_index)
            self.store.ensure_index()
        self.full_text = None
        if o.full_text:
            from transforms.fulltext import FullText

            self.full_text = FullText(self.http)
        self.pool = ThreadPoolExecutor(max_workers=o.concurrency, thread_name_prefix="wirenews-fetch")
        self.lock = threading.Lock()
        self.queues: dict[str, deque[tuple[FeedSpec, Future]]] = {}
        self.in_flight: list[tuple[FeedSpec, Future, Any, Any]] = []

    def start_bundle(self) -> None:
        self.in_flight = []

    def process(self, feed: FeedSpec, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam):
        future: Future = Future()
        self.in_flight.append((feed, future, timestamp, window))
        host = urlsplit(feed.url).hostname or ""
        with self.lock:
            queue = self.queues.get(host)
            if queue is None:
                queue = self.queues[host] = deque()
                self.pool.submit(self._drain, host, queue)
            queue.append((feed, future))
        yield from self._emit(keep=2 * self.options.concurrency - 1)

    def finish_bundle(self):
        yield from self._emit(keep=0)

    def _drain(self, host: str, queue: deque[tuple[FeedSpec, Future]]) -> None:
        """Poll one host's feeds in turn until its queue is empty."""
        while True:
            with self.lock:
                if not queue:
                    del self.queues[host]
                    return
                feed, future = queue.popleft()
            try:
                future.set_result(self.poll(feed))
            except BaseException as e:  # poll catches what a feed can cause; anything else fails the bundle
                future.set_exception(e)

    def _emit(self, keep: int) -> Iterator[WindowedValue]:
        """Emit every finished poll; wait for more until at most ``keep`` are left."""
        while self.in_flight:
            done = [item for item in self.in_flight if item[1].done()]
            if not done:
                if len(self.in_flight) <= keep:
                    return
                wait([item[1] for item in self.in_flight], return_when=FIRST_COMPLETED)
                continue
            for item in done:
                self.in_flight.remove(item)
                feed, future, timestamp, window = item
                for article in self._record(feed, future.result()):
                    yield WindowedValue(article, timestamp, [window])

    def poll(self, feed: FeedSpec) -> FeedOutcome:
        """One feed, state read to state written; runs on a pool thread and never raises."""
        now = datetime.now(timezone.utc)
        waited_before = self.http.gate.waited()
        state = None
        if self.store is not None:
            try:
                state = self.store.get(feed.name)
            except Exception as e:  # noqa: BLE001 - without state the feed is still fetched, unconditionally
                log.warning("feed %s: cannot read feed state: %s", feed.name, e)
        try:
            outcome = process_feed(feed, state, self.http, now, full_text=self.full_text)
        except Exception as e:  # noqa: BLE001 - a bug on one feed must not fail the bundle of others
            log.exception("feed %s: internal error", feed.name)
            outcome = FeedOutcome(status="failed", counts=Counter({"feeds_failed": 1, "feed_errors_internal": 1}),
                                  state=on_failure(for_feed(state, feed.name, feed.url), now, feed.poll_interval,
                                                   "internal", f"{type(e).__name__}: {e}"))
        if self.store is not None and outcome.state is not None and outcome.status != "skipped":
            try:
                self.store.put(outcome.state, pending=self.options.defer_state and outcome.status == "fetched")
            except Exception as e:  # noqa: BLE001
                log.warning("feed %s: cannot write feed state: %s", feed.name, e)
        waited_ms = round((self.http.gate.waited() - waited_before) * 1000)
        if waited_ms:
            outcome.counts["politeness_wait_ms"] += waited_ms
        return outcome

    @staticmethod
    def _record(feed: FeedSpec, outcome: FeedOutcome) -> list[Article]:
        for name, n in outcome.counts.items():
            Metrics.counter(NAMESPACE, name).inc(n)
        per_feed = f"{NAMESPACE}.feed.{feed.name}"
        if outcome.status != "skipped":
            Metrics.counter(per_feed, outcome.status).inc()
        Metrics.counter(per_feed, "articles").inc(len(outcome.articles))
        if outcome.counts.get("articles_unchanged"):
            Metrics.counter(per_feed, "articles_unchanged").inc(outcome.counts["articles_unchanged"])
        return outcome.articles

    def teardown(self) -> None:
        pool = getattr(self, "pool", None)
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        http = getattr(self, "http", None)
        if http is not None:
            http.close()


class ReadFeeds(beam.PTransform):
    """PCollection[FeedSpec] -> PCollection[Article]; ``es=None`` keeps no feed state (tests, one-off runs).

    ``min_gap``: seconds between two requests to one host (default 1). ``full_text=False`` turns page
    fetching off whatever the feeds say. ``defer_state``: a feed that yielded articles gets its new
    state written as pending, to be made current by ``FeedStateStore.commit_pending()`` once the run's
    articles are indexed; until then the next run fetches it again (ids are stable, so nothing doubles).
    ``concurrency``: feeds polled at once per worker; requests to one host still go one at a time.
    """

    def __init__(self, es: Any | None, *, max_bytes: int = 10_000_000, timeout: float = 30.0,
                 user_agent: str | None = None, min_gap: float | None = None, full_text: bool = True,
                 defer_state: bool = False, concurrency: int = 8) -> None:
        super().__init__()
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        self.options = ReadOptions(es=es, max_bytes=max_bytes, timeout=timeout, user_agent=user_agent,
                                   min_gap=min_gap, full_text=full_text, defer_state=defer_state,
                                   concurrency=concurrency)

    def expand(self, feeds):
        return feeds | "FetchAndParse" >> beam.ParDo(
            _ReadFeedFn(self.options))
