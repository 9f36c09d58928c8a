"""The pipeline graph, the one place where stages are wired: the stages of PRODUCT.md as named steps."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import apache_beam as beam
from apache_beam.pvalue import PCollection

from pipeline import __version__
from pipeline.config import Config
from pipeline.progress import LogProgress
from pipeline.stream import DropSeen, PollFeeds, keep_runner_metrics_bounded
from transforms.cleaning import CleanArticles
from transforms.entities import TagEntities
from transforms.sink import SkipUnchanged, WriteToElasticsearch
from transforms.sources import ReadFeeds, feed_of, host_of
from transforms.stories import AssignStories


def build_batch(p: beam.Pipeline, cfg: Config, feeds: Sequence[Any] | None = None) -> PCollection:
    """Feeds -> articles -> clean -> skip unchanged -> stories -> entities -> Elasticsearch documents.

    ``feeds``: what to read instead of all of ``cfg.feeds`` (FeedSpecs, and Polled feeds the launcher
    already fetched). Returns the dead-letter records of the sink.
    """
    # Create spreads its elements over the workers (it reshuffles when there are two or more).
    feeds = p | "Feeds" >> beam.Create(by_host(cfg.feeds if feeds is None else feeds))
    return index_feeds(feeds, cfg)


def by_host(feeds: Iterable[Any]) -> list[Any]:
    """Feeds (FeedSpecs or Polled) with each host's next to each other, hosts in order of first appearance.

    The local runner deals a stage's input to its workers in turn, so dealing a host-grouped list gives
    every worker an even share of every host: an agency's stories cost alike to tag and differ from
    another's by up to a third, and a worker holding more of the costly ones finished seconds after the
    other, with one core idle. Other runners lose nothing by the order.
    """
    groups: dict[str, list[Any]] = {}
    for feed in feeds:
        groups.setdefault(host_of(feed_of(feed)), []).append(feed)
    return [feed for group in groups.values() for feed in group]


def index_feeds(feeds: PCollection, cfg: Config, *, dedupe: bool = False) -> PCollection:
    """Everything after the feed list; shared by batch and streaming runs.

    ``dedupe`` drops a story met again within the same long-running stream before any lookup.
    """
    # Feed state (validators, entry hashes) is written as pending and made current only after the
    # articles are indexed, so a run killed in between fetches those feeds again rather than losing them.
    articles = (feeds
                | "ReadFeeds" >> ReadFeeds(cfg.es, defer_state=True, policy=cfg.fetch.policy(),
                                           timeout=cfg.fetch.timeout, max_bytes=cfg.fetch.max_bytes,
                                           concurrency=cfg.fetch.concurrency, read_ahead=cfg.fetch.read_ahead)
                | "Progress" >> beam.ParDo(LogProgress("articles read")))
    cleaned = articles | "Clean" >> beam.ParDo(CleanArticles())
    if dedupe:
        cleaned = cleaned | "DropSeen" >> beam.ParDo(DropSeen())
    # Stored hashes are looked up in batches of the entity stage's size, so tagging starts with the first
    # feeds read instead of after 500 stories (the read-ahead in ReadFeeds keeps the fetching going meanwhile).
    changed = cleaned | "SkipUnchanged" >> SkipUnchanged(cfg.es, batch_size=64)
    # Copies of one story (across feeds, portals and runs) get one story.id; only new and changed articles
    # reach this step, and the lookup lives in Elasticsearch, so every worker and run sees the same stories.
    if cfg.stories.enabled:
        changed = changed | "Stories" >> AssignStories(cfg.es, batch_size=cfg.stories.batch_size)
    tagged = changed | "Entities" >> beam.ParDo(TagEntities())
    return tagged | "Index" >> WriteToElasticsearch(cfg.es, pipeline_version=__version__)


def build_stream(p: beam.Pipeline, cfg: Config, stop_file: str) -> PCollection:
    """The streaming graph: the poller, then the same stages as a batch run."""
    keep_runner_metrics_bounded()  # the local runner's per-bundle metrics, merged as they come
    feeds = (p
             | "FeedList" >> beam.Create([tuple(cfg.feeds)])
             | "PollFeeds" >> beam.ParDo(PollFeeds(stop_file, cfg.es)))
    return index_feeds(feeds, cfg, dedupe=True)
