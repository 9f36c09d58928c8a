"""The pipeline graph: the stages of PRODUCT.md as a list of named steps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import apache_beam as beam
from apache_beam.pvalue import PCollection

from pipeline import __version__
from pipeline.config import Config


def build_batch(p: beam.Pipeline, cfg: Config, feeds: Sequence[Any] | None = None) -> PCollection:
    """Feeds -> articles -> clean -> skip unchanged -> entities -> Elasticsearch documents.

    ``feeds``: what to read instead of all of ``cfg.feeds`` (FeedSpecs, and Polled feeds the launcher
    already fetched). Returns the dead-letter records of the sink.
    """
    feeds = p | "Feeds" >> beam.Create(list(cfg.feeds if feeds is None else feeds)) | "SpreadFeeds" >> beam.Reshuffle()
    return index_feeds(feeds, cfg)


def index_feeds(feeds: PCollection, cfg: Config, *, dedupe: bool = False) -> PCollection:
    """Everything after the feed list; shared by batch and streaming runs.

    ``dedupe`` drops a story met again within the same long-running stream before any lookup.
    """
    from pipeline.progress import LogProgress
    from transforms.clean import CleanArticles
    from transforms.entities import TagEntities
    from transforms.index import SkipUnchanged, WriteToElasticsearch
    from transforms.read_feeds import ReadFeeds

    # Feed state (validators, entry hashes) is written as pending and made current only after the
    # articles are indexed, so a run killed in between fetches those feeds again rather than losing them.
    articles = (feeds
                | "ReadFeeds" >> ReadFeeds(cfg.es, defer_state=True, min_gap=cfg.fetch.min_gap,
                                           timeout=cfg.fetch.timeout, max_bytes=cfg.fetch.max_bytes,
                                           concurrency=cfg.fetch.concurrency)
                | "Progress" >> beam.ParDo(LogProgress("articles read")))
    cleaned = articles | "Clean" >> beam.ParDo(CleanArticles())
    if dedupe:
        from pipeline.stream import DropSeen

        cleaned = cleaned | "DropSeen" >> beam.ParDo(DropSeen())
    # Stored hashes are looked up in batches of the entity stage's size, so tagging starts with the first
    # feeds read instead of after 500 stories (the read-ahead in ReadFeeds keeps the fetching going meanwhile).
    changed = cleaned | "SkipUnchanged" >> SkipUnchanged(cfg.es, batch_size=64)
    tagged = changed | "Entities" >> beam.ParDo(TagEntities())
    return tagged | "Index" >> WriteToElasticsearch(cfg.es, pipeline_version=__version__)
