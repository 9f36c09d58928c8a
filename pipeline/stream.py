"""Streaming: each feed polled on its own interval until a clean stop.

The feed list is one element of a splittable DoFn that never finishes on its
own. Each time feeds are due it claims one position, emits them, and defers the
rest of its restriction: that ends the bundle, so every buffering stage after it
(entities, the Elasticsearch sink) flushes, and new items become searchable at
once. Between polls it sleeps in short steps rather than asking the runner to
wait, because Beam's local FnApiRunner re-delivers a deferred restriction at
once; sleeping here keeps an idle stream near zero CPU. A stop is a file: the
CLI creates it on SIGTERM/SIGINT, every worker process can see it, and the
poller then finishes its restriction so the pipeline drains and ends.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import apache_beam as beam
from apache_beam.io.restriction_trackers import OffsetRange, OffsetRestrictionTracker
from apache_beam.metrics import Metrics
from apache_beam.metrics.monitoring_infos import consolidate
from apache_beam.runners.portability.fn_api_runner import fn_runner
from apache_beam.transforms.core import RestrictionProvider
from apache_beam.utils.timestamp import Duration, Timestamp

from transforms.article import Article, FeedSpec
from transforms.elastic import make_client
from transforms.sink import reached_index
from transforms.sources import FeedStateStore, StoriesMissing

log = logging.getLogger(__name__)

MAX_TICKS = 2**62
IDLE_STEP = 1.0  # seconds slept per invocation while nothing is due: the stop latency, and the idle cost


# -- schedule: plain functions ---------------------------------------------------


def due_feeds(feeds: Sequence[FeedSpec], next_due: dict[str, float], now: float) -> list[FeedSpec]:
    """Feeds whose time has come; a feed never polled is due at once."""
    return [f for f in feeds if next_due.get(f.name, 0.0) <= now]


def reschedule(feeds: Sequence[FeedSpec], next_due: dict[str, float], now: float) -> None:
    for f in feeds:
        next_due[f.name] = now + f.poll_interval


def seconds_to_next(feeds: Sequence[FeedSpec], next_due: dict[str, float], now: float) -> float:
    if not feeds:
        return float("inf")
    return max(0.0, min(next_due.get(f.name, 0.0) for f in feeds) - now)


SEEN_CAPACITY = 50_000  # stories a stream remembers as passed: hours of a busy wire, about 8 MB (19 MB as id tuples)


def seen_key(article_id: str, content_hash: str) -> bytes:
    """16 bytes for an (id, content hash) pair: the cache holds no article's strings, whatever their length."""
    return hashlib.blake2b(f"{article_id}\0{content_hash}".encode(), digest_size=16).digest()


class SeenCache:
    """A bounded memory of (id, content hash): the same story met twice in one stream is passed once.

    Least recently met first out; keys are digests (``seen_key``), so each entry costs the same small
    amount however long the ids are. A story evicted and met again goes on to the stored-hash lookup,
    which drops it there: the bound costs a lookup, never a re-index.
    """

    def __init__(self, capacity: int = SEEN_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, not {capacity}")
        self.capacity = capacity
        self._seen: OrderedDict[bytes, None] = OrderedDict()

    def first_time(self, key: tuple[str, str]) -> bool:
        digest = seen_key(*key)
        if digest in self._seen:
            self._seen.move_to_end(digest)
            return False
        self._seen[digest] = None
        if len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return True

    def __len__(self) -> int:
        return len(self._seen)


def consolidate_now(metrics: Iterable[Any], key: Callable[[Any], Any] | None = None) -> list[Any]:
    """Beam's ``consolidate`` of monitoring infos, done at once rather than as a generator."""
    return list(consolidate(metrics) if key is None else consolidate(metrics, key))


def keep_runner_metrics_bounded() -> None:
    """Make the local runner merge each bundle's metrics into its totals as the bundle ends.

    Beam's FnApiRunner (2.77) folds every bundle's monitoring infos into its running totals lazily: it
    wraps the totals so far and the new bundle's infos in one more ``itertools.chain`` and ``consolidate``
    generator, read only when the pipeline ends. A batch run has a few bundles; a stream has one per poll
    that found work, so the nest grew without end, each level holding its bundle's response (the stream's
    memory climbed with the number of polls: ~175 KB a poll). Merging at once keeps one list per stage,
    the same totals. Idempotent; other runners never look up this name.
    """
    fn_runner.consolidate_monitoring_infos = consolidate_now


# -- Beam wrappers ---------------------------------------------------------------


class _OnePoller(OffsetRestrictionTracker):
    """Refuses a runner's dynamic splits, so one poller holds the schedule; checkpoints still work.

    Prism (and Flink, Dataflow) split a running restriction on their own, at half its remainder: each
    half would be a poller of its own. A tracker may refuse a split; a checkpoint (fraction 0, which
    ``defer_remainder`` also asks for) leaves one restriction alive and is granted.
    """

    def try_split(self, fraction_of_remainder: float) -> tuple[OffsetRange, OffsetRange] | None:
        if fraction_of_remainder > 0:
            return None
        return super().try_split(fraction_of_remainder)


class _Ticks(RestrictionProvider):
    def initial_restriction(self, element: object) -> OffsetRange:
        return OffsetRange(0, MAX_TICKS)

    def create_tracker(self, restriction: OffsetRange) -> OffsetRestrictionTracker:
        return _OnePoller(restriction)

    def restriction_size(self, element: object, restriction: OffsetRange) -> int:
        return 1

    def split(self, element: object, restriction: OffsetRange) -> Iterator[OffsetRange]:
        yield restriction  # one poller: splitting the schedule would poll feeds twice

    def truncate(self, element: object, restriction: OffsetRange) -> None:
        return None  # on drain, stop polling


_TICKS = beam.DoFn.RestrictionParam(_Ticks())


class PollFeeds(beam.DoFn):
    """(feeds...) -> FeedSpec, each when due, until the stop file appears."""

    def __init__(self, stop_file: str, es: object | None = None, idle_step: float = IDLE_STEP) -> None:
        self.stop_file = stop_file
        self.es = es
        self.idle_step = idle_step
        self._next_due: dict[str, float] = {}
        self._polls = Metrics.counter("wirenews", "polls")

    def setup(self) -> None:
        self._next_due = {}  # a cache of the stored schedule; empty: read it at the first wake-up
        self._uncommitted = False
        self._store = None
        if self.es is not None:
            # One attempt per wake-up: a failed commit is tried again at the next one, the poll loop never waits.
            self._store = FeedStateStore(make_client(self.es), self.es.state_index,  # type: ignore[attr-defined]
                                         max_retries=0)

    def _commit(self) -> None:
        """The feeds of earlier polls whose articles are all indexed (or dead-lettered) become current."""
        if self._store is None or not self._uncommitted:
            return
        es, client = self.es, self._store.client
        try:
            self._store.commit_pending(reached=lambda ids: reached_index(
                client, es.index, es.deadletter_index, ids))  # type: ignore[attr-defined]
            self._uncommitted = False
        except StoriesMissing as e:  # their bundles are still on their way: looked at again at the next wake-up
            log.debug("stream: %s", e)
        except Exception as e:  # noqa: BLE001 - retried at the next wake-up; the feeds are re-read meanwhile
            log.warning("stream: cannot commit feed state yet: %s", e)

    def process(self, feeds: tuple[FeedSpec, ...],
                tracker: OffsetRestrictionTracker = _TICKS) -> Iterator[object]:
        tick = tracker.current_restriction().start
        self._commit()
        wait = seconds_to_next(feeds, self._next_due, time.time())
        deadline = time.monotonic() + min(wait, self.idle_step)
        while not self._stopping() and time.monotonic() < deadline:
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        if self._stopping():
            log.info("stream: stop requested; no more polls")
            tracker.try_claim(tracker.current_restriction().stop - 1)
            return
        now = time.time()
        due = due_feeds(feeds, self._next_due, now)
        if due and self._store is not None:
            due = self._claim(feeds, due, now)
        if due:
            if not tracker.try_claim(tick):
                return
            reschedule(due, self._next_due, now)
            self._uncommitted = True
            self._polls.inc()
            log.info("stream: polling %d feed(s): %s", len(due), ", ".join(f.name for f in due))
            for feed in due:
                yield beam.window.TimestampedValue(feed, Timestamp.of(now))
        tracker.defer_remainder(Duration(seconds=0))

    def _claim(self, feeds: Sequence[FeedSpec], due: list[FeedSpec], now: float) -> list[FeedSpec]:
        """The feeds this poller may poll now: due by the stored schedule, and claimed in the feed state.

        Whoever holds the restriction after a split, a checkpoint or a restart reads the schedule from
        the feed state, and a claim only wins over the version it read: each feed is polled once per
        interval. Without the cluster the poller goes by its own schedule (nothing can be indexed then).
        """
        assert self._store is not None
        try:
            slots = self._store.slots([f.name for f in feeds])
            really = [f for f in due if slots[f.name].due_at <= now]
            start = datetime.fromtimestamp(now, timezone.utc)
            won = self._store.claim([(f.name, f.url, start + timedelta(seconds=f.poll_interval)) for f in really],
                                    slots)
        except Exception as e:  # noqa: BLE001 - the poll goes ahead on this poller's own schedule
            log.warning("stream: cannot read or claim the feeds' schedule: %s", e)
            return due
        for f in feeds:
            self._next_due[f.name] = max(slots[f.name].due_at, self._next_due.get(f.name, 0.0))
        lost = [f for f in really if f.name not in won]
        for f in lost:  # another poller has it: look again after an interval
            self._next_due[f.name] = now + f.poll_interval
        if lost:
            log.info("stream: %d feed(s) claimed by another poller: %s", len(lost), ", ".join(f.name for f in lost))
        return [f for f in really if f.name in won]

    def _stopping(self) -> bool:
        return os.path.exists(self.stop_file)


class DropSeen(beam.DoFn):
    """Pass each (article, content) once per worker; ES change detection covers the rest."""

    def __init__(self, capacity: int = SEEN_CAPACITY) -> None:
        self.capacity = capacity
        self._dupes = Metrics.counter("wirenews", "articles_duplicate")

    def setup(self) -> None:
        self._seen = SeenCache(self.capacity)

    def process(self, article: Article) -> Iterator[Article]:
        if self._seen.first_time((article.id, article.content_hash)):
            yield article
        else:
            self._dupes.inc()
