"""The Beam wrapper: ``AssignStories`` gives every article its ``story`` fields, batch by batch.

The DoFn buffers up to ``batch_size`` articles, hashes their cleaned bodies, and lets ``StoryStore``
place the batch (a few requests to Elasticsearch per batch, whatever the batch size). Placing is mostly
waiting for Elasticsearch, so it runs on a thread of its own, one batch at a time in arrival order, while
the batch before it goes on to the entity stage: the wait hides behind the model's work instead of
adding to it. The store client is made in ``setup`` (clients do not pickle); every batch is placed and
handed on in ``finish_bundle`` at the latest; nothing relies on ``teardown``. The worker keeps no story
state between bundles, so it behaves the same on every runner, on one worker or many, in a batch run or in ``stream``.
"""

from __future__ import annotations

import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.utils.windowed_value import WindowedValue

from transforms.article import Article
from transforms.elastic import EsSettings, make_client
from transforms.stories.signature import Hasher
from transforms.stories.store import Arrival, StoryStore

NAMESPACE = "wirenews"


def arrival(article: Article, hasher: Hasher, now: str) -> Arrival:
    """What the store needs of an article; the signature is of the cleaned body."""
    sig = hasher.signature(article.text or "")
    return Arrival(article.id, article.content_hash, article.first_seen_at or now,
                   article.source_name or article.feed_name or article.source_domain, article.title or "",
                   sig, tuple(hasher.band_keys(sig)), article.published_at)


def placing_thread() -> ThreadPoolExecutor:
    """One thread: batches are placed one after another, in the order they came (a batch can join stories
    its predecessor founded)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="place-stories")


class _AssignStoriesFn(beam.DoFn):
    def __init__(self, settings: EsSettings, batch_size: int) -> None:
        self.settings = settings
        self.batch_size = batch_size
        self.buffer: list[tuple[Article, Any, Any]] = []
        self.placing: deque[tuple[list[tuple[Article, Any, Any]], Future]] = deque()

    def setup(self) -> None:
        self.placer = placing_thread()
        self.store = StoryStore(make_client(self.settings), self.settings.index,
                                max_retries=self.settings.max_retries)
        self.store.ensure_indices()
        self.hasher = Hasher()
        self.founded = Metrics.counter(NAMESPACE, "articles_first_of_story")
        self.joined = Metrics.counter(NAMESPACE, "articles_copy_of_story")
        self.hash_us = Metrics.distribution(NAMESPACE, "story_hash_us_per_article")
        self.place_ms = Metrics.distribution(NAMESPACE, "story_place_ms_per_batch")
        self.retried = Metrics.counter(NAMESPACE, "story_requests_retried")

    def start_bundle(self) -> None:
        self.buffer = []
        self.placing = deque()

    def teardown(self) -> None:
        if getattr(self, "placer", None) is not None:
            self.placer.shutdown(wait=True)
        if getattr(self, "store", None) is not None:
            self.store.client.close()

    def process(self, article: Article, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam):
        self.buffer.append((article, timestamp, window))
        if len(self.buffer) >= self.batch_size:
            self._submit()
            # The batch before this one has been placing meanwhile; hand it on while this one places.
            while len(self.placing) > 1:
                for art, _, _ in self._collect():
                    yield art

    def finish_bundle(self):
        self._submit()
        while self.placing:
            for art, ts, win in self._collect():
                yield WindowedValue(art, ts, [win])

    def _submit(self) -> None:
        if not self.buffer:
            return
        batch, self.buffer = self.buffer, []
        now = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        start = time.perf_counter()
        arrivals = [arrival(a, self.hasher, now) for a, _, _ in batch]
        self.hash_us.update(int((time.perf_counter() - start) * 1e6 / len(batch)))
        self.placing.append((batch, self.placer.submit(self._place, arrivals, now)))

    def _place(self, arrivals: list[Arrival], now: str) -> tuple[dict[str, Any], int, float]:
        """On the placing thread: the batch's placements, the requests retried, the milliseconds taken."""
        start, retried = time.perf_counter(), self.store.retried
        placed = self.store.place(arrivals, now)
        return placed, self.store.retried - retried, (time.perf_counter() - start) * 1e3

    def _collect(self):
        """The oldest batch placed, with its story fields (waits for it; a failed placing fails the bundle)."""
        batch, future = self.placing.popleft()
        placed, retried, took_ms = future.result()
        self.retried.inc(retried)
        self.place_ms.update(int(took_ms))
        for art, ts, win in batch:
            p = placed[art.id]
            (self.founded if p.story_id == art.id else self.joined).inc()
            yield replace(art, story=p.fields()), ts, win


class AssignStories(beam.PTransform):
    """PCollection[Article] -> PCollection[Article] with ``story`` filled (``story.id`` and where it began)."""

    def __init__(self, settings: EsSettings, *, batch_size: int = 64) -> None:
        super().__init__()
        self.settings = settings
        self.batch_size = batch_size

    def expand(self, pcoll):
        return pcoll | "PlaceInStories" >> beam.ParDo(_AssignStoriesFn(self.settings, self.batch_size))
