"""The Beam wrapper of the entity stage: articles buffered into the tagger's batches."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import apache_beam as beam
from apache_beam.utils.windowed_value import WindowedValue

from transforms.article import Article
from transforms.entities.mentions import STATUS_TAGGED
from transforms.entities.model import DEFAULT_MODEL
from transforms.entities.tagger import Tagger, apply_entities
from transforms.process_exit import freeze_for_exit


class TagEntities(beam.DoFn):
    """Tags Articles in batches of ``batch_size``; the model loads in ``setup``, once per DoFn instance
    (Beam keeps one per worker thread and reuses it across bundles), and what is left flushes in
    ``finish_bundle`` with each article's own timestamp and window."""

    def __init__(self, model: str = DEFAULT_MODEL, aliases_path: str | None = None, batch_size: int = 64):
        self._model = model
        self._aliases_path = aliases_path
        self._batch_size = batch_size
        self._tagger: Tagger | None = None
        self._pending: list[tuple[Article, Any, Any]] = []

    def setup(self) -> None:
        # Loaded once per worker, on the first article to tag: a poll where nothing changed costs no model load.
        self._tagger: Tagger | None = None
        self._tagged = beam.metrics.Metrics.counter("entities", "tagged")
        self._skipped = beam.metrics.Metrics.counter("entities", "skipped")

    def start_bundle(self) -> None:
        self._pending = []

    def teardown(self) -> None:
        freeze_for_exit()  # a worker process ends next: let it exit without collecting the model

    def process(self, article: Article, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam):
        self._pending.append((article, timestamp, window))
        if len(self._pending) >= self._batch_size:
            yield from self._flush()

    def finish_bundle(self):
        yield from self._flush()

    def _flush(self) -> Iterator[WindowedValue]:
        pending, self._pending = self._pending, []
        if not pending:
            return
        if self._tagger is None:
            self._tagger = Tagger.load(self._model, self._aliases_path)
        results = self._tagger.tag_many(
            [(article.title, article.text) for article, _, _ in pending],
            hints=[article.language_hint for article, _, _ in pending],
        )
        for (article, timestamp, window), result in zip(pending, results, strict=True):
            (self._tagged if result.status == STATUS_TAGGED else self._skipped).inc()
            yield WindowedValue(apply_entities(article, result), timestamp, [window])
