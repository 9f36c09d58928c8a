"""FeedSpec -> Articles: fetch, parse, optional full text, feed state, counters.

``process_feed`` is the whole stage for one feed as a plain function (tested without Beam);
of a changed feed it passes on only the entries that are new or changed since the last poll (their
hashes are kept in the feed state), so a busy feed does not re-send, or re-fetch pages for, the fifty
stories it still lists. Deleting the feed-state index makes the next run read everything again.
``ReadFeeds`` is the thin PTransform around it. Clients are made in ``setup()``; the feed state is read
per feed and written as soon as that feed is done, so a run stopped half-way keeps what it learnt.

Politeness (one request at a time per host, a minimum gap) is per worker process: parallel workers in
different processes each keep their own gate, so a host sees at most one request per process at a time.
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics

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


class _ReadFeedFn(beam.DoFn):
    def __init__(self, options: ReadOptions) -> None:
        self.options = options

    def setup(self) -> None:
        o = self.options
        self.http = HttpClient(user_agent=o.user_agent, max_bytes=o.max_bytes, timeout=o.timeout, min_gap=o.min_gap)
        self.store = None
        if o.es is not None:
            from pipeline.es_client import make_client

            self.store = FeedStateStore(make_client(o.es), o.es.state_index)
            self.store.ensure_index()
        self.full_text = None
        if o.full_text:
            from transforms.fulltext import FullText

            self.full_text = FullText(self.http)

    def process(self, feed: FeedSpec):
        now = datetime.now(timezone.utc)
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
        for name, n in outcome.counts.items():
            Metrics.counter(NAMESPACE, name).inc(n)
        per_feed = f"{NAMESPACE}.feed.{feed.name}"
        if outcome.status != "skipped":
            Metrics.counter(per_feed, outcome.status).inc()
        Metrics.counter(per_feed, "articles").inc(len(outcome.articles))
        if outcome.counts.get("articles_unchanged"):
            Metrics.counter(per_feed, "articles_unchanged").inc(outcome.counts["articles_unchanged"])
        yield from outcome.articles

    def teardown(self) -> None:
        http = getattr(self, "http", None)
        if http is not None:
            http.close()


class ReadFeeds(beam.PTransform):
    """PCollection[FeedSpec] -> PCollection[Article]; ``es=None`` keeps no feed state (tests, one-off runs).

    ``min_gap``: seconds between two requests to one host (default 1). ``full_text=False`` turns page
    fetching off whatever the feeds say. ``defer_state``: a feed that yielded articles gets its new
    state written as pending, to be made current by ``FeedStateStore.commit_pending()`` once the run's
    articles are indexed; until then the next run fetches it again (ids are stable, so nothing doubles).
    """

    def __init__(self, es: Any | None, *, max_bytes: int = 10_000_000, timeout: float = 30.0,
                 user_agent: str | None = None, min_gap: float | None = None, full_text: bool = True,
                 defer_state: bool = False) -> None:
        super().__init__()
        self.options = ReadOptions(es=es, max_bytes=max_bytes, timeout=timeout, user_agent=user_agent,
                                   min_gap=min_gap, full_text=full_text, defer_state=defer_state)

    def expand(self, feeds):
        return feeds | "FetchAndParse" >> beam.ParDo(
            _ReadFeedFn(self.options))
