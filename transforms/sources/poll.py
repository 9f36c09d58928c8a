"""One poll of one feed as plain functions: fetch, parse, optional full text, the feed's next state.

``process_feed`` is a whole poll; it is ``poll_feed`` (requests only) then ``finish_feed`` (parse), which a
launcher that polls before the pipeline starts calls apart. Of a changed feed only the entries that are new
or changed since the last poll pass on (their hashes are kept in the feed state), so a busy feed does not
re-send, or re-fetch pages for, the fifty stories it still lists. Deleting the feed-state index makes the
next run read everything again. ``poll_and_store`` adds the feed state read before and written after.

``HostQueues`` runs polls on a few threads, one at a time per host (or the host's ``fetch.hosts``
concurrency), so no thread stands in line at a host's politeness gate while a feed of another host
could be fetched. Politeness (one request at a time per host, a gap after each) is per process: the
threads of a process share one gate.
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
import tempfile
import threading
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from transforms.article import Article, FeedSpec
from transforms.sources.bodies import parse_body
from transforms.sources.feed_state import FeedState, FeedStateStore, for_feed, on_failure, on_success
from transforms.sources.fetch import FetchResult, fetch_feed
from transforms.sources.formats import newest_versions
from transforms.sources.http_client import HttpClient

log = logging.getLogger(__name__)

NAMESPACE = "wirenews"


@dataclass
class FeedOutcome:
    """What one poll of one feed produced; ``counts`` are the "wirenews" counters to add."""

    status: str  # fetched | unchanged | failed | skipped | handed
    articles: list[Article] = field(default_factory=list)
    state: FeedState | None = None
    counts: Counter = field(default_factory=Counter)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (url, kind, message)
    handed: Polled | None = None  # status "handed": fetched, changed, left unparsed for the pipeline


@dataclass
class Polled:
    """A feed fetched but not yet parsed: what the launcher hands to the pipeline when it polled first."""

    feed: FeedSpec
    state: FeedState
    results: list[FetchResult]
    now: datetime

    @property
    def changed(self) -> bool:
        """Something new to parse: only then is the pipeline needed for this feed."""
        return any(r.status == "fetched" for r in self.results)


def spooled(polled: Polled, directory: Path) -> Polled:
    """The same poll with every fetched body written to a file in ``directory`` and only its path kept.

    A launcher that hands fetched feeds to a pipeline on this machine passes them through the pipeline's
    feed list, which the runner copies many times over (pickled into the graph, into each worker's
    plan): a path costs nothing there whatever the feed weighs, so the launcher's memory does not grow
    with the feeds' size. ``directory`` must outlive the pipeline.
    """
    results = []
    for res in polled.results:
        if res.body and res.body_file is None:
            with tempfile.NamedTemporaryFile(dir=directory, prefix="feed-", suffix=".body", delete=False) as f:
                f.write(res.body)
            res = replace(res, body=b"", body_file=f.name)
        results.append(res)
    return replace(polled, results=results)


def poll_feed(feed: FeedSpec, state: FeedState | None, http: HttpClient | None, now: datetime, *,
              rng: random.Random | None = None, **fetch_kwargs: Any) -> Polled:
    """The fetch half of a poll: requests only, nothing parsed."""
    state = for_feed(state, feed.name, feed.url)
    return Polled(feed, state, fetch_feed(feed, state, http, now, rng=rng, **fetch_kwargs), now)


def process_feed(feed: FeedSpec, state: FeedState | None, http: HttpClient | None, now: datetime, *,
                 full_text: Any = None, rng: random.Random | None = None, **fetch_kwargs: Any) -> FeedOutcome:
    """One poll of ``feed``: every step that can fail is caught and named, so other feeds never notice."""
    return finish_feed(poll_feed(feed, state, http, now, rng=rng, **fetch_kwargs), full_text=full_text, rng=rng)


def finish_feed(polled: Polled, *, full_text: Any = None, rng: random.Random | None = None) -> FeedOutcome:
    """The parse half of a poll: entries, errors and the feed's next state."""
    feed, state, results, now = polled.feed, polled.state, polled.results, polled.now
    out = FeedOutcome(status="unchanged", state=state)
    if results and results[0].status == "skipped":  # asked nothing of the server: no state to write
        out.status = "skipped"
        why = results[0].error_kind or "unknown"
        out.counts["feeds_skipped"] += 1
        out.counts[f"feeds_skipped_{why}"] += 1
        log.log(logging.WARNING if why == "robots" else logging.INFO, "feed %s: skipped (%s): %s", feed.name,
                why, results[0].error)
        return out
    ok: list[FetchResult] = []
    retry_after = None
    entry_hashes: dict[str, str] | None = None
    interval: float | None | Literal["keep"] = "keep"  # a 304 says nothing about the feed's declared interval
    for res in results:
        if res.status == "failed":
            out.errors.append((res.url, res.error_kind or "unknown", res.error or ""))
            retry_after = max(retry_after or 0.0, res.retry_after) if res.retry_after else retry_after
            continue
        if res.status == "unchanged":
            ok.append(res)
            continue
        parsed = parse_body(res.read_body(), res.headers, feed, res.url, now)
        out.counts.update(parsed.counts)
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
            interval = parsed.declared_interval
            out.counts["articles_unchanged"] += len(parsed.articles) - len(fresh)
        out.counts["articles_parsed"] += len(parsed.articles)
        if full_text is not None and feed.full_text:
            for art in fresh:
                full_text(art)
        out.articles.extend(fresh)
        ok.append(res)
    if any(a.wire for a in out.articles):  # a folder may hold a story and its later versions: the newest goes on
        feed_items = [a for a in out.articles if not a.wire]
        wire_items, superseded = newest_versions([a for a in out.articles if a.wire])
        out.articles = feed_items + wire_items
        if superseded:
            out.counts["wire_versions_superseded"] += superseded
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
            file_hashes=file_hashes, entry_hashes=entry_hashes, declared_interval=interval)
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


def host_of(feed: FeedSpec) -> str:
    """The politeness key of a feed: its host name ("" for files)."""
    return urlsplit(feed.url).hostname or ""


def feed_of(element: FeedSpec | Polled) -> FeedSpec:
    """The feed of a pipeline element: a FeedSpec, or one a launcher already fetched."""
    return element.feed if isinstance(element, Polled) else element


class HostQueues:
    """Runs calls on a thread pool, at most ``per_host(key)`` at a time per host key (one by default), in the
    order they were submitted.

    A call that has not started can be cancelled through its future (``Future.cancel``).
    """

    def __init__(self, threads: int, per_host: Callable[[str], int] = lambda host: 1) -> None:
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="wirenews-fetch")
        self.per_host = per_host
        self.lock = threading.Lock()
        self.queues: dict[str, deque[tuple[Future, Callable[[], Any]]]] = {}
        self.running: dict[str, int] = {}  # drains working through each host's queue

    def submit(self, host: str, call: Callable[[], Any]) -> Future:
        future: Future = Future()
        with self.lock:
            queue = self.queues.setdefault(host, deque())
            queue.append((future, call))
            if self.running.get(host, 0) < max(1, self.per_host(host)):
                self.running[host] = self.running.get(host, 0) + 1
                self.pool.submit(self._drain, host, queue)
        return future

    def _drain(self, host: str, queue: deque[tuple[Future, Callable[[], Any]]]) -> None:
        while True:
            with self.lock:
                if not queue:
                    self.running[host] -= 1
                    if not self.running[host]:
                        del self.running[host], self.queues[host]
                    return
                future, call = queue.popleft()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(call())
            except BaseException as e:  # the caller sees it through the future
                future.set_exception(e)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def read_state(store: FeedStateStore | None, feed: FeedSpec) -> FeedState | None:
    """The feed's stored state; None (the feed is fetched unconditionally) when there is none or it cannot be read."""
    if store is None:
        return None
    try:
        return store.get(feed.name)
    except Exception as e:  # noqa: BLE001 - without state the feed is still fetched, unconditionally
        log.warning("feed %s: cannot read feed state: %s", feed.name, e)
        return None


def guarded(feed: FeedSpec, state: FeedState | None, now: datetime, step: Callable[[], FeedOutcome]) -> FeedOutcome:
    """``step()``, or a failed outcome naming the bug: one feed's internal error must not stop the others."""
    try:
        return step()
    except Exception as e:  # noqa: BLE001
        log.exception("feed %s: internal error", feed.name)
        return FeedOutcome(status="failed", counts=Counter({"feeds_failed": 1, "feed_errors_internal": 1}),
                           state=on_failure(for_feed(state, feed.name, feed.url), now, feed.poll_interval,
                                            "internal", f"{type(e).__name__}: {e}"))


def write_state(store: FeedStateStore | None, feed: FeedSpec, outcome: FeedOutcome, *, defer: bool) -> None:
    """Store the feed's next state; ``defer``: a feed that yielded articles is written as pending."""
    if store is None or outcome.state is None or outcome.status == "skipped":
        return
    try:
        store.put(outcome.state, pending=defer and outcome.status == "fetched",
                  article_ids=[a.id for a in outcome.articles if a.id])
    except Exception as e:  # noqa: BLE001
        log.warning("feed %s: cannot write feed state: %s", feed.name, e)


def poll_and_store(element: FeedSpec | Polled, store: FeedStateStore | None, http: HttpClient | None, *,
                   full_text: Any = None, defer_state: bool = False, hand_over: bool = False) -> FeedOutcome:
    """A feed (or a feed a launcher already fetched) to its outcome, state read before and written after.

    ``hand_over``: a changed feed is not parsed; it comes back as status "handed" with its fetch in
    ``handed`` and no state written (the pipeline that parses it writes that). Adds the seconds this
    thread waited at the politeness gate (including any robots.txt read) as ``politeness_wait_ms``.
    """
    waited_before = http.gate.waited() if http is not None else 0.0
    if isinstance(element, Polled):
        feed = element.feed
        outcome = guarded(feed, element.state, element.now, lambda: finish_feed(element, full_text=full_text))
    else:
        feed, now = element, datetime.now(timezone.utc)
        state = read_state(store, feed)

        def poll() -> FeedOutcome:
            polled = poll_feed(feed, state, http, now)
            if hand_over and polled.changed:
                return FeedOutcome(status="handed", handed=polled)
            return finish_feed(polled, full_text=full_text)

        outcome = guarded(feed, state, now, poll)
    write_state(store, feed, outcome, defer=defer_state)
    if http is not None:
        _count_wait(outcome, http, waited_before)
    return outcome


def _count_wait(outcome: FeedOutcome, http: HttpClient, waited_before: float) -> None:
    """Add what this thread waited at the politeness gate since ``waited_before`` to the outcome's counts."""
    waited_ms = round((http.gate.waited() - waited_before) * 1000)
    if waited_ms:
        outcome.counts["politeness_wait_ms"] += waited_ms


def outcome_counters(feed: FeedSpec, outcome: FeedOutcome) -> list[tuple[str, str, int]]:
    """(namespace, name, value) of every counter a poll adds: totals, and per feed for the summary's table."""
    counters = [(NAMESPACE, name, n) for name, n in outcome.counts.items()]
    per_feed = f"{NAMESPACE}.feed.{feed.name}"
    if outcome.status != "skipped":
        counters.append((per_feed, outcome.status, 1))
    counters.append((per_feed, "articles", len(outcome.articles)))
    if outcome.counts.get("articles_unchanged"):
        counters.append((per_feed, "articles_unchanged", outcome.counts["articles_unchanged"]))
    return counters
