"""Poll before the pipeline starts, so a run over unchanged feeds needs no pipeline at all.

A scheduled batch run mostly finds nothing new. Starting Beam's workers costs seconds (interpreters
importing Beam, stage set-up and shutdown) for what is a handful of conditional GETs answered
``304 Not Modified``. The launcher therefore polls the HTTP feeds itself, a few at a time
(``fetch.concurrency``, one request at a time per host unless ``fetch.hosts`` allows more), and finishes
every feed that turns out unchanged, failing or skipped (backing off, not due by its declared interval,
disallowed by robots.txt): its state is written and its counts go into the run's summary. At the first feed
that has changed it stops starting new polls; the changed feeds it fetched go into the pipeline to be
parsed (one fetch per feed per poll still), the feeds it never polled are polled by the pipeline as
usual. A first run therefore hands over at once, and a run where nothing changed ends without Beam.

The changed feeds' bodies go to files in a spool folder and the pipeline's feed list carries their paths
(``spooled``): the runner copies that list into its graph and every worker's plan, and a launcher that
carried the bodies there held several times their size for the whole run, growing with the feeds.

Files and globs are never read here (a drop folder can hold more than the launcher should carry), and
only runs on this machine use this (the local runner, Prism): a remote runner would ship the fetched
bodies inside the job.
"""

from __future__ import annotations

import argparse
import logging
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import POLL_FIRST_RUNNERS
from pipeline.config import Config
from transforms.article import FeedSpec
from transforms.elastic import make_client
from transforms.sources.feed_state import FeedStateStore
from transforms.sources.fetch import is_file_source
from transforms.sources.http_client import HttpClient
from transforms.sources.poll import (
    Polled,
    host_of,
    outcome_counters,
    poll_and_store,
    spooled,
)

log = logging.getLogger(__name__)


def applies(beam_args: list[str]) -> bool:
    """Whether the run is on this machine (the local runner or Prism), read off Beam's arguments without
    importing Beam."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--runner")
    known, _ = parser.parse_known_args(beam_args)
    return known.runner in POLL_FIRST_RUNNERS


@dataclass
class Prepoll:
    """What the launcher's poll left for the pipeline, and the counts of the feeds it finished itself."""

    handed: list[Polled] = field(default_factory=list)  # changed and fetched: the pipeline parses them
    remaining: list[FeedSpec] = field(default_factory=list)  # not polled here: the pipeline polls them
    counters: list[tuple[str, str, int]] = field(default_factory=list)  # (namespace, name, value)

    @property
    def pipeline_needed(self) -> bool:
        return bool(self.handed or self.remaining)

    @property
    def finished(self) -> int:
        return sum(n for ns, name, n in self.counters if ns.startswith("wirenews.feed.") and name in
                   ("fetched", "unchanged", "failed"))


def prepoll(cfg: Config, *, store: FeedStateStore | None = None, http: HttpClient | None = None,
            spool: Path | None = None) -> Prepoll:
    """Poll ``cfg.feeds`` until the first changed one; see the module's docstring.

    ``spool``: a folder (kept until the pipeline ends) for the bodies of the feeds handed on; None keeps
    them in memory.

    The feed-state index must exist (the CLI's bootstrap creates it before this runs).
    """
    own_store = store is None
    if store is None:
        store = FeedStateStore(make_client(cfg.es), cfg.es.state_index)
    http = http or HttpClient(policy=cfg.fetch.policy(), timeout=cfg.fetch.timeout, max_bytes=cfg.fetch.max_bytes,
                              pool_maxsize=cfg.fetch.concurrency)
    out = Prepoll(remaining=[f for f in cfg.feeds if is_file_source(f.url)])
    # Each host's feeds are polled one after the other, the next only once the last proved unchanged:
    # a feed queued behind a changed one would already be waiting out the politeness gap when the
    # change is seen, and the pipeline would start half a second later for a feed it polls itself.
    waiting: dict[str, deque[FeedSpec]] = {}
    for feed in cfg.feeds:
        if not is_file_source(feed.url):
            waiting.setdefault(host_of(feed), deque()).append(feed)
    pool = ThreadPoolExecutor(max_workers=cfg.fetch.concurrency, thread_name_prefix="wirenews-prepoll")
    futures: dict[Future, FeedSpec] = {}

    def poll_next(host: str) -> None:
        if waiting.get(host):
            feed = waiting[host].popleft()
            futures[pool.submit(poll_and_store, feed, store, http, hand_over=True)] = feed

    try:
        for host in list(waiting):
            for _ in range(http.policy.concurrency(host)):  # a host's fetch.hosts concurrency, 1 by default
                poll_next(host)
        while futures:
            done, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in done:
                feed = futures.pop(future)
                outcome = future.result()
                if outcome.handed is not None:
                    out.handed.append(outcome.handed if spool is None else spooled(outcome.handed, spool))
                    out.remaining += [f for queued in waiting.values() for f in queued]  # the pipeline polls them
                    waiting.clear()
                    continue
                out.counters += outcome_counters(feed, outcome)
                poll_next(host_of(feed))
    finally:
        pool.shutdown(wait=True)
        if own_store:
            store.client.close()
    log.info("polled first: %d feed(s) finished unchanged or failed, %d changed handed on, %d left to the pipeline",
             out.finished, len(out.handed), len(out.remaining))
    return out

