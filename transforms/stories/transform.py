"""The Beam wrapper: ``AssignStories`` gives every article its ``story`` fields, batch by batch.

The DoFn buffers up to ``batch_size`` articles, hashes their cleaned bodies, and lets ``StoryStore``
place the batch (a few requests to Elasticsearch per batch, whatever the batch size). The store client
is made in ``setup`` (clients do not pickle); buffered articles are placed in ``finish_bundle`` at the
latest; nothing relies on ``teardown``. The worker keeps no story state between batches, so it behaves
the same on every runner, on one worker or many, in a batch run or in ``stream``.
"""

from __future__ import annotations

import time
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


class _AssignStoriesFn(beam.DoFn):
    def __init__(self, settings: EsSettings, batch_size: int) -> None:
        self.settings = settings
        self.batch_size = batch_size
        self.buffer: list[tuple[Article, Any, Any]] = []

    def setup(self) -> None:
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

    def teardown(self) -> None:
        if getattr(self, "store", None) is not None:
            self.store.client.close()

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
        now = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        start = time.perf_counter()
        arrivals = [arrival(a, self.hasher, now) for a, _, _ in batch]
        hashed = time.perf_counter()
        retried = self.store.retried
        placed = self.store.place(arrivals, now)
        self.retried.inc(self.store.retried - retried)
        self.hash_us.update(int((hashed - start) * 1e6 / len(batch)))
        self.place_ms.update(int((time.perf_counter() - hashed) * 1e3))
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
