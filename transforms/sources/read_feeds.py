"""FeedSpec -> Articles: the thin Beam wrapper around ``transforms.poll``.

``ReadFeeds`` polls each feed (``poll_and_store``) and emits the articles of the entries that are new or
changed. Clients are made in ``setup()``; the feed state is read per feed and written as soon as that feed
is done, so a run stopped half-way keeps what it learnt. Elements may also be ``Polled`` feeds a launcher
already fetched: those are only parsed. Parallel workers in different processes each keep their own
politeness gate, so a host sees at most one request per process at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.utils.windowed_value import WindowedValue

from transforms.article import Article, FeedSpec
from transforms.elastic import make_client
from transforms.sources.feed_state import FeedStateStore
from transforms.sources.fulltext import FullText
from transforms.sources.http_client import HttpClient
from transforms.sources.politeness import FetchPolicy
from transforms.sources.poll import FeedOutcome, HostQueues, Polled, feed_of, host_of, outcome_counters, poll_and_store

READ_AHEAD = 500  # articles a worker holds parsed ahead by default (the config's fetch.read_ahead)


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
    policy: FetchPolicy | None = None  # gaps, per-host limits, robots.txt, declared intervals; wins over min_gap
    read_ahead: int = READ_AHEAD  # articles parsed ahead of the stages after this one, per worker (see _ReadFeedFn)


class _ReadFeedFn(beam.DoFn):
    """Polls feeds on a small thread pool while the stages after it work on the feeds already read.

    Without it a worker sleeps out every politeness gap with nothing to do. Feeds go through
    ``HostQueues`` (one poll at a time per host); articles are emitted in the order the polls finish, from
    ``process`` and at the latest in ``finish_bundle``.

    How far it reads ahead is bounded by articles, not feeds: a new poll starts only while the polls
    running, each counted as the largest feed this worker has read so far (before the first has come
    back, as a ``concurrency``-th of ``read_ahead``: the polls that can run at once start together), come
    to at most ``read_ahead`` articles, and never more than ``2 x concurrency - 1`` polls. A bound in
    feeds alone held more of the corpus the more stories each feed listed (fifteen parsed feeds of 160
    stories are 2,400 articles), so memory grew with the feeds.
    Counters are incremented on the bundle's thread, because Beam keeps metrics per thread.
    """

    def __init__(self, options: ReadOptions) -> None:
        self.options = options

    def setup(self) -> None:
        o = self.options
        self.http = HttpClient(user_agent=o.user_agent, max_bytes=o.max_bytes, timeout=o.timeout, min_gap=o.min_gap,
                               pool_maxsize=o.concurrency, policy=o.policy)
        self.store = None
        if o.es is not None:
            self.store = FeedStateStore(make_client(o.es), o.es.state_index)
            self.store.ensure_index()
        self.full_text = None
        if o.full_text:
            self.full_text = FullText(self.http)
        self.queues = HostQueues(o.concurrency, per_host=self.http.policy.concurrency)
        self.in_flight: list[tuple[FeedSpec, Future, Any, Any]] = []
        self.largest_feed: int | None = None  # the most articles one poll of this worker has yielded

    def start_bundle(self) -> None:
        self.in_flight = []

    def process(self, element: FeedSpec | Polled, timestamp=beam.DoFn.TimestampParam,
                window=beam.DoFn.WindowParam):
        feed = feed_of(element)
        future = self.queues.submit(host_of(feed), lambda: self.poll(element))
        self.in_flight.append((feed, future, timestamp, window))
        yield from self._emit(keep=2 * self.options.concurrency - 1, articles=self.options.read_ahead)

    def finish_bundle(self):
        yield from self._emit(keep=0)

    def _emit(self, keep: int, articles: int | None = None) -> Iterator[WindowedValue]:
        """Emit every finished poll; wait for more until at most ``keep`` are left, expected to yield at
        most ``articles`` (None: any number)."""
        while self.in_flight:
            done = [item for item in self.in_flight if item[1].done()]
            if not done:
                if len(self.in_flight) <= keep and (articles is None or self._expected() <= articles):
                    return
                wait([item[1] for item in self.in_flight], return_when=FIRST_COMPLETED)
                continue
            for item in done:
                self.in_flight.remove(item)
                feed, future, timestamp, window = item
                outcome = future.result()
                self.largest_feed = max(self.largest_feed or 0, len(outcome.articles))
                for article in self._record(feed, outcome):
                    yield WindowedValue(article, timestamp, [window])

    def _expected(self) -> int:
        """The articles the polls still running may bring, each counted as the largest feed read so far."""
        o = self.options
        per_poll = max(1, o.read_ahead // o.concurrency) if self.largest_feed is None else self.largest_feed
        return len(self.in_flight) * per_poll

    def poll(self, element: FeedSpec | Polled) -> FeedOutcome:
        """One feed, state read to state written; runs on a pool thread and never raises for a feed's fault."""
        return poll_and_store(element, self.store, self.http, full_text=self.full_text,
                              defer_state=self.options.defer_state)

    @staticmethod
    def _record(feed: FeedSpec, outcome: FeedOutcome) -> list[Article]:
        for namespace, name, n in outcome_counters(feed, outcome):
            Metrics.counter(namespace, name).inc(n)
        return outcome.articles

    def teardown(self) -> None:
        queues = getattr(self, "queues", None)
        if queues is not None:
            queues.shutdown()
        http = getattr(self, "http", None)
        if http is not None:
            http.close()


class ReadFeeds(beam.PTransform):
    """PCollection[FeedSpec | Polled] -> PCollection[Article]; ``es=None`` keeps no feed state (tests, one-off runs).

    ``min_gap``: seconds between two requests to one host (default 0.5). ``full_text=False`` turns page
    fetching off whatever the feeds say. ``defer_state``: a feed that yielded articles gets its new
    state written as pending, to be made current by ``FeedStateStore.commit_pending()`` once the run's
    articles are indexed; until then the next run fetches it again (ids are stable, so nothing doubles).
    ``concurrency``: feeds polled at once per worker; requests to one host still go one at a time.
    ``policy``: the full politeness settings (``FetchPolicy``); when given, ``min_gap`` is not read.
    ``read_ahead``: articles a worker may hold parsed ahead of the stages after this one (at least one
    feed is always polled, however large).
    """

    def __init__(self, es: Any | None, *, max_bytes: int = 10_000_000, timeout: float = 30.0,
                 user_agent: str | None = None, min_gap: float | None = None, full_text: bool = True,
                 defer_state: bool = False, concurrency: int = 8, policy: FetchPolicy | None = None,
                 read_ahead: int = READ_AHEAD) -> None:
        super().__init__()
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        if read_ahead < 1:
            raise ValueError(f"read_ahead must be at least 1, not {read_ahead}")
        self.options = ReadOptions(es=es, max_bytes=max_bytes, timeout=timeout, user_agent=user_agent,
                                   min_gap=min_gap, full_text=full_text, defer_state=defer_state,
                                   concurrency=concurrency, policy=policy, read_ahead=read_ahead)

    def expand(self, feeds):
        return feeds | "FetchAndParse" >> beam.ParDo(
            _ReadFeedFn(self.options))
