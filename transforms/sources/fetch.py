"""One poll of one feed: HTTP(S) through ``HttpClient`` or local files and globs, decided against its state.

Returns plain ``FetchResult`` values; nothing here raises for a bad feed. "unchanged" covers both a 304
and a 200 whose body hash equals the last one (servers send stale or rotating validators). "skipped" is
a poll that asked nothing of the feed's server: the feed is backing off after failures, its declared
interval (``ttl``, ``sy:updatePeriod``) has not passed yet ("not_due"), or robots.txt disallows it
("robots"); none of them is a failure.
"""

from __future__ import annotations

import glob
import hashlib
import logging
import os
import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import formatdate
from pathlib import Path
from urllib.parse import urlsplit

from transforms.article import FeedSpec
from transforms.backoff import RETRYABLE_STATUS, backoff_delay
from transforms.sources.errors import FetchError
from transforms.sources.feed_state import FeedState, declared_due_at, fetch_url, is_backing_off
from transforms.sources.http_client import HttpClient

log = logging.getLogger(__name__)

FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9, "
               "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5")
# Transient failures retried within the same poll, after a short jittered pause.
RETRYABLE_KINDS = {"connect", "timeout"}
# A file has no Content-Type; feedparser wants one to choose between XML and JSON.
_FILE_TYPES = {".json": "application/feed+json", ".html": "text/html", ".htm": "text/html"}


@dataclass
class FetchResult:
    feed: FeedSpec
    status: str  # "fetched" | "unchanged" | "failed" | "skipped" (backing_off, not_due, robots)
    url: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    http_status: int | None = None
    error_kind: str | None = None
    error: str | None = None
    elapsed: float = 0.0
    body_hash: str | None = None
    permanent_url: str | None = None  # set when every redirect hop was permanent
    retry_after: float | None = None
    is_file: bool = False
    body_file: str | None = None  # the body kept in this file instead of ``body`` (see ``poll.spooled``)

    def read_body(self) -> bytes:
        """The fetched bytes, from ``body`` or from the file they were spooled to."""
        return Path(self.body_file).read_bytes() if self.body_file else self.body


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def is_file_source(url: str) -> bool:
    """A path, a glob or a file: URL (a one-letter scheme is a Windows drive)."""
    scheme = urlsplit(url).scheme.lower()
    return scheme in ("", "file") or len(scheme) == 1


def drop_folder_exists(pattern: str) -> bool:
    """Whether the folder a glob looks in exists (``/srv/drop`` for ``/srv/drop/*.xml``; a folder glob such as
    ``/srv/*/in/*.xml`` when it matches a folder). A drop folder may well be empty: its folder may not be missing.
    """
    return any(os.path.isdir(d) for d in glob.glob(os.path.dirname(pattern) or "."))


def fetch_feed(feed: FeedSpec, state: FeedState, client: HttpClient | None, now: datetime, *,
               retries: int = 1, retry_max_wait: float = 10.0,
               sleep=time.sleep, rng: random.Random | None = None) -> list[FetchResult]:
    """Poll ``feed`` once. A glob gives one result per file; an HTTP feed gives exactly one."""
    if is_backing_off(state, now):
        return [FetchResult(feed=feed, status="skipped", url=fetch_url(state),
                            error_kind="backing_off",
                            error=f"{state.consecutive_failures} consecutive failures; next poll at "
                                  f"{state.next_poll_at}")]
    if is_file_source(feed.url):
        max_bytes = client.max_bytes if client else 10_000_000
        return fetch_files(feed, state, max_bytes)
    if urlsplit(feed.url).scheme.lower() not in ("http", "https"):
        return [FetchResult(feed=feed, status="failed", url=feed.url, error_kind="bad_url",
                            error=f"only http(s) URLs and local files are read, not {feed.url!r}")]
    if client is None:
        raise ValueError("an HTTP feed needs an HttpClient")
    due = declared_due_at(state, client.policy.max_ttl)
    if due is not None and now < due:
        return [FetchResult(feed=feed, status="skipped", url=fetch_url(state), error_kind="not_due",
                            error=f"the feed asks to be polled every {state.declared_interval:.0f}s; next poll "
                                  f"from {due.isoformat()}")]
    return [fetch_http(feed, state, client, retries=retries, retry_max_wait=retry_max_wait, sleep=sleep, rng=rng)]


def fetch_http(feed: FeedSpec, state: FeedState, client: HttpClient, *, retries: int = 1,
               retry_max_wait: float = 10.0, sleep=time.sleep, rng: random.Random | None = None) -> FetchResult:
    url = fetch_url(state)
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        try:
            resp = client.get(url, etag=state.etag, last_modified=state.last_modified, accept=FEED_ACCEPT)
            break
        except FetchError as e:
            if e.kind == "robots":
                return FetchResult(feed=feed, status="skipped", url=e.url or url, error_kind="robots",
                                   error=e.message, elapsed=time.monotonic() - started)
            wait = _retry_wait(e, attempt, retries, retry_max_wait, rng)
            if wait is None:
                return FetchResult(feed=feed, status="failed", url=e.url or url, http_status=e.http_status,
                                   error_kind=e.kind, error=e.message, retry_after=e.retry_after,
                                   elapsed=time.monotonic() - started)
            log.info("feed %s: %s (%s), retrying in %.1fs", feed.name, e.kind, e.message, wait)
            sleep(wait)
    elapsed = time.monotonic() - started
    headers = dict(resp.headers)
    if resp.status == 304:
        return FetchResult(feed=feed, status="unchanged", url=resp.url, headers=headers, http_status=304,
                           elapsed=elapsed, body_hash=state.body_hash, permanent_url=resp.permanent_url)
    digest = body_hash(resp.body)
    status = "unchanged" if state.body_hash and digest == state.body_hash else "fetched"
    return FetchResult(feed=feed, status=status, url=resp.url, body=resp.body if status == "fetched" else b"",
                       headers=headers, http_status=resp.status, elapsed=elapsed, body_hash=digest,
                       permanent_url=resp.permanent_url)


def _retry_wait(e: FetchError, attempt: int, retries: int, max_wait: float,
                rng: random.Random | None) -> float | None:
    """How long to pause before retrying this error within the poll; None: give up for this poll."""
    if attempt > retries:
        return None
    if e.kind in RETRYABLE_KINDS:
        return backoff_delay(attempt, base=1.0, cap=max_wait, rng=rng)
    if e.kind == "http_status" and e.http_status in RETRYABLE_STATUS:
        if e.retry_after is not None:
            return e.retry_after if e.retry_after <= max_wait else None
        return backoff_delay(attempt, base=1.0, cap=max_wait, rng=rng)
    return None


def fetch_files(feed: FeedSpec, state: FeedState, max_bytes: int) -> list[FetchResult]:
    """Every file the path or glob names; a file whose bytes are unchanged since the last poll is "unchanged"."""
    pattern = feed.url[len("file://"):] if feed.url.startswith("file://") else feed.url
    paths = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
    paths = [p for p in paths if os.path.isfile(p)] if glob.has_magic(pattern) else paths
    if not paths:
        if glob.has_magic(pattern) and drop_folder_exists(pattern):
            return []  # an empty drop folder: nothing new, which is no failure
        return [FetchResult(feed=feed, status="failed", url=pattern, error_kind="not_found",
                            error=f"no file matches {pattern!r}" if glob.has_magic(pattern) else
                            f"no such file {pattern!r}", is_file=True)]
    results = []
    for path in paths:
        started = time.monotonic()
        try:
            size = os.path.getsize(path)
            if size > max_bytes:
                raise FetchError("too_large", f"{path}: {size} bytes exceeds the cap of {max_bytes}")
            body = Path(path).read_bytes()
        except FetchError as e:
            results.append(FetchResult(feed=feed, status="failed", url=path, error_kind=e.kind, error=e.message,
                                       is_file=True))
            continue
        except FileNotFoundError:
            results.append(FetchResult(feed=feed, status="failed", url=path, error_kind="not_found",
                                       error=f"no such file {path!r}", is_file=True))
            continue
        except OSError as e:
            results.append(FetchResult(feed=feed, status="failed", url=path, error_kind="io",
                                       error=f"{path}: {e.strerror or e}", is_file=True))
            continue
        digest = body_hash(body)
        unchanged = state.file_hashes.get(path) == digest
        headers = {"content-type": _FILE_TYPES.get(Path(path).suffix.lower(), "application/xml"),
                   "last-modified": formatdate(os.path.getmtime(path), usegmt=True)}
        results.append(FetchResult(feed=feed, status="unchanged" if unchanged else "fetched", url=path,
                                   body=b"" if unchanged else body, headers=headers, body_hash=digest,
                                   elapsed=time.monotonic() - started, is_file=True))
    return results
