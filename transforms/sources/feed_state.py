"""What we remember about each feed between polls, and the rules that update it.

The state is a plain dataclass and the rules are pure functions of (state, outcome, now), so the
backoff and validator logic is tested without a network or a cluster. ``FeedStateStore`` is the thin
Elasticsearch read/write around it: one document per feed, ``_id`` = the feed name, in
``EsSettings.state_index``, so a restarted or distributed run continues where the last one stopped.

Written at once, a feed's new validators can outrun its articles: a run killed after the state write
but before the index write would get a 304 next time and never see those articles again. A batch run
that wants "nothing lost" writes the state as pending and commits it after the index write succeeded.
"""

from __future__ import annotations

import itertools
import logging
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any, Literal

from transforms.backoff import RETRYABLE_STATUS, backoff_delay
from transforms.elastic import AUX_INDEX_SETTINGS, is_transient
from transforms.sources.dates import iso_z, parse_iso

log = logging.getLogger(__name__)

PENDING_SUFFIX = "#pending"
BACKOFF_BASE = 60.0  # seconds after the first failure
BACKOFF_CAP = 24 * 3600.0  # a feed failing for days is still tried once a day


@dataclass
class FeedState:
    name: str
    url: str = ""  # the configured URL the state belongs to
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    file_hashes: dict[str, str] = field(default_factory=dict)  # path -> sha256, for file and glob feeds
    entry_hashes: dict[str, str] = field(default_factory=dict)  # article id -> entry hash, last poll's entries
    permanent_url: str | None = None  # where a permanent redirect moved the feed
    last_success_at: str | None = None
    last_attempt_at: str | None = None
    last_status: str | None = None  # fetched | unchanged | failed
    last_error_kind: str | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    next_poll_at: str | None = None
    declared_interval: float | None = None  # seconds the feed asks between polls (RSS ttl, sy:updatePeriod)

    def to_doc(self) -> dict[str, Any]:
        """The stored form. File hashes become a list: paths as field names would grow the mapping."""
        doc = asdict(self)
        doc["file_hashes"] = [{"path": p, "sha256": h} for p, h in sorted(self.file_hashes.items())]
        doc["entry_hashes"] = [{"id": i, "hash": h} for i, h in sorted(self.entry_hashes.items())]
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> FeedState:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in doc.items() if k in known}
        files = values.get("file_hashes") or []
        if isinstance(files, list):
            values["file_hashes"] = {f["path"]: f["sha256"] for f in files if isinstance(f, dict) and "path" in f}
        entries = values.get("entry_hashes") or []
        if isinstance(entries, list):
            values["entry_hashes"] = {e["id"]: e["hash"] for e in entries if isinstance(e, dict) and "id" in e}
        return cls(**values)


def initial_state(name: str, url: str) -> FeedState:
    return FeedState(name=name, url=url)


def for_feed(state: FeedState | None, name: str, url: str) -> FeedState:
    """The stored state if it still belongs to this URL; a fresh one when the config's URL changed."""
    if state is None or state.url != url:
        return initial_state(name, url)
    return state


PERMANENT_URL_GIVE_UP = 3  # consecutive failures at the moved address before trying the configured one again


def fetch_url(state: FeedState) -> str:
    """Where to fetch: the permanent redirect target once one was seen, else the configured URL.

    A moved address that keeps failing is not trusted for ever: after a few failures the configured URL
    is asked again (and a new redirect, if any, is recorded afresh).
    """
    if state.permanent_url and state.consecutive_failures < PERMANENT_URL_GIVE_UP:
        return state.permanent_url
    return state.url


def is_backing_off(state: FeedState, now: datetime) -> bool:
    """True while a failing feed waits out its backoff (the poll is skipped, not hammered)."""
    if state.consecutive_failures <= 0:
        return False
    nxt = parse_iso(state.next_poll_at)
    return nxt is not None and now < nxt


def declared_due_at(state: FeedState, max_ttl: float) -> datetime | None:
    """When the feed's own declared interval has passed since its last successful poll; None: no interval
    declared (or ``max_ttl`` 0, declared intervals ignored). The interval is capped at ``max_ttl``, so a feed
    that claims a week is still polled every ``max_ttl`` seconds."""
    if not state.declared_interval or max_ttl <= 0:
        return None
    last = parse_iso(state.last_success_at)
    if last is None:
        return None
    return last + timedelta(seconds=min(state.declared_interval, max_ttl))


def is_due(state: FeedState, now: datetime) -> bool:
    """For a streaming poller: the feed's own schedule or backoff has come round."""
    nxt = parse_iso(state.next_poll_at)
    return nxt is None or now >= nxt


def backoff_seconds(failures: int, rng: random.Random | None = None,
                    base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP) -> float:
    """Exponential in the number of consecutive failures, with jitter in [half, full] so feeds spread out."""
    return backoff_delay(failures, base, cap, rng)


def on_success(state: FeedState, now: datetime, poll_interval: int, *, changed: bool,
               etag: str | None = None, last_modified: str | None = None, body_hash: str | None = None,
               permanent_url: str | None = None, file_hashes: dict[str, str] | None = None,
               entry_hashes: dict[str, str] | None = None,
               declared_interval: float | None | Literal["keep"] = "keep") -> FeedState:
    """A fetch that worked (200 or 304): validators kept, failures forgotten, next poll on schedule.

    ``declared_interval``: what a parsed body declared (None: nothing); "keep" for a 304, which says nothing.
    """
    s = FeedState(**asdict(state))
    if declared_interval != "keep":
        s.declared_interval = declared_interval
    if etag is not None:
        s.etag = etag
    if last_modified is not None:
        s.last_modified = last_modified
    if body_hash is not None:
        s.body_hash = body_hash
    if file_hashes is not None:
        s.file_hashes = dict(file_hashes)
    if entry_hashes is not None:
        s.entry_hashes = dict(entry_hashes)
    if permanent_url:
        s.permanent_url = permanent_url
    s.last_success_at = iso_z(now)
    s.last_attempt_at = iso_z(now)
    s.last_status = "fetched" if changed else "unchanged"
    s.last_error_kind = None
    s.last_error = None
    s.consecutive_failures = 0
    s.next_poll_at = iso_z(now + timedelta(seconds=poll_interval))
    return s


def on_failure(state: FeedState, now: datetime, poll_interval: int, kind: str, message: str, *,
               retry_after: float | None = None, rng: random.Random | None = None) -> FeedState:
    """A failed poll: count it and push the next poll out (backoff, or the server's Retry-After if longer)."""
    s = FeedState(**asdict(state))
    s.consecutive_failures = state.consecutive_failures + 1
    if s.consecutive_failures >= PERMANENT_URL_GIVE_UP:
        s.permanent_url = None
    s.last_attempt_at = iso_z(now)
    s.last_status = "failed"
    s.last_error_kind = kind
    s.last_error = message[:1000]
    wait = max(float(poll_interval) if s.consecutive_failures == 1 else 0.0,
               backoff_seconds(s.consecutive_failures, rng))
    if retry_after is not None:
        wait = max(wait, retry_after)
    s.next_poll_at = iso_z(now + timedelta(seconds=wait))
    return s


STATE_MAPPING: dict[str, Any] = {
    "dynamic": False,  # only what we query is mapped; the rest rides along in _source
    "properties": {
        "name": {"type": "keyword"},
        "url": {"type": "keyword"},
        "last_status": {"type": "keyword"},
        "last_error_kind": {"type": "keyword"},
        "consecutive_failures": {"type": "integer"},
        "last_success_at": {"type": "date"},
        "last_attempt_at": {"type": "date"},
        "next_poll_at": {"type": "date"},
        "file_hashes": {"type": "object", "enabled": False},
        "entry_hashes": {"type": "object", "enabled": False},
        "pending": {"type": "boolean"},
    },
}


CLAIM_FIELD = "claimed_until"  # a stream poller's claim on a feed's poll, until the feed is next due


@dataclass(frozen=True)
class Slot:
    """A feed's stored schedule: when it is next due, and the version of its document a claim must match."""

    due_at: float = 0.0  # seconds since the epoch; 0.0 for a feed never polled
    seq_no: int | None = None
    primary_term: int | None = None


def due_at(doc: dict[str, Any] | None) -> float:
    """When a stored feed is next due: the later of its own schedule (or backoff) and a poller's claim."""
    times = [parse_iso((doc or {}).get(name)) for name in ("next_poll_at", CLAIM_FIELD)]
    return max((t.timestamp() for t in times if t is not None), default=0.0)


class FeedStateError(RuntimeError):
    """Elasticsearch refused a feed state write; the message names the feeds."""


class StoriesMissing(FeedStateError):
    """Articles a poll passed on are neither indexed nor dead-lettered: those feeds stay pending."""

    def __init__(self, held: dict[str, int], committed: int) -> None:
        self.held = held
        self.committed = committed
        names = ", ".join(f"{name} ({n})" for name, n in sorted(held.items())[:5])
        super().__init__(f"{sum(held.values())} story(ies) of {len(held)} feed(s) did not reach the index: {names}"
                         f"{' ...' if len(held) > 5 else ''}; their feed state stays pending and the next run "
                         "reads them again")


class FeedStateStore:
    """Reads and writes ``FeedState`` documents; owns nothing but the client and the index name.

    The commit of a run's states waits out a busy or unreachable cluster like the sink does
    (``max_retries`` with exponential backoff), then raises; a poll's own write tries once. Either way an
    unwritten state only means those feeds are read again.
    """

    def __init__(self, client: Any, index: str, *, max_retries: int = 6, backoff_initial: float = 0.5,
                 backoff_max: float = 30.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self.client = client
        self.index = index
        self.max_retries = max_retries
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.sleep = sleep

    def ensure_index(self) -> None:
        if not self.client.indices.exists(index=self.index):
            try:
                self.client.indices.create(index=self.index, mappings=STATE_MAPPING, settings=AUX_INDEX_SETTINGS)
            except Exception as e:  # noqa: BLE001 - another worker may have created it first
                if "resource_already_exists" not in str(e):
                    raise

    def get(self, name: str) -> FeedState | None:
        resp = self.client.options(ignore_status=404).get(index=self.index, id=name)
        if not resp.get("found"):
            return None
        return FeedState.from_doc(resp["_source"])

    def load_all(self, size: int = 10_000) -> dict[str, FeedState]:
        if not self.client.indices.exists(index=self.index):
            return {}
        resp = self.client.search(index=self.index, size=size, query={"match_all": {}})
        return {h["_id"]: FeedState.from_doc(h["_source"]) for h in resp["hits"]["hits"]
                if not h["_id"].endswith(PENDING_SUFFIX)}

    def put(self, state: FeedState, *, pending: bool = False, article_ids: list[str] | None = None) -> None:
        """Write the state; ``pending`` keeps it aside until ``commit_pending`` (see ReadFeeds ``defer_state``),
        with the ids of the articles the poll passed on, which must reach the index before it is committed."""
        if pending:
            self.client.index(index=self.index, id=state.name + PENDING_SUFFIX,
                              document=state.to_doc() | {"pending": True, "article_ids": article_ids or []})
        else:  # one attempt: a poll thread does not wait out a cluster that is down; the feed is read again
            self.put_current([state], retries=0)

    def put_current(self, states: list[FeedState], *, retries: int | None = None) -> None:
        """Make ``states`` the feeds' states in one bulk request (one round trip and one translog sync,
        not two per feed), each dropping its pending document: a state read and written since must never
        lose to an older pending one (a killed run's). ``retries``: default ``max_retries``."""
        retries = self.max_retries if retries is None else retries
        if not states:
            return
        operations: list[dict[str, Any]] = []
        for state in states:
            operations += [{"index": {"_index": self.index, "_id": state.name}}, state.to_doc() | {"pending": False},
                           {"delete": {"_index": self.index, "_id": state.name + PENDING_SUFFIX}}]
        for attempt in itertools.count(1):
            why = self._bulk(operations)
            if why is None:
                return
            if attempt > retries:
                raise FeedStateError(f"feed state of {len(states)} feed(s) not written after {retries} "
                                     f"retries: {why}")
            delay = backoff_delay(attempt, self.backoff_initial, self.backoff_max)
            log.warning("feed state write: %s; retrying in %.1f s (attempt %d of %d)", why, delay, attempt, retries)
            self.sleep(delay)

    def _bulk(self, operations: list[dict[str, Any]]) -> str | None:
        """One bulk request: None when every operation succeeded, else why it is worth retrying.

        Every operation is idempotent, so a retry sends them all again. Raises on a permanent failure.
        """
        try:
            resp = self.client.bulk(operations=operations)
        except Exception as e:
            if is_transient(e):
                return f"{type(e).__name__}: {e}"
            raise
        if not resp.get("errors"):
            return None
        failed = [result for item in resp["items"] for result in item.values() if result.get("error")]
        permanent = [r for r in failed if r.get("status") not in RETRYABLE_STATUS]
        if permanent:
            raise FeedStateError(f"{len(permanent)} feed state write(s) refused: " + "; ".join(
                f"{r.get('_id')}: {r['error'].get('reason', r['error'])}" for r in permanent[:3]))
        return f"{len(failed)} item(s) answered {failed[0].get('status')}" if failed else None

    def slots(self, names: list[str]) -> dict[str, Slot]:
        """Each feed's stored schedule, read in one request."""
        resp = self.client.mget(index=self.index, ids=names)
        return {d["_id"]: Slot(due_at(d["_source"]), d["_seq_no"], d["_primary_term"]) if d.get("found") else Slot()
                for d in resp["docs"]}

    def claim(self, claims: list[tuple[str, str, datetime]], slots: dict[str, Slot]) -> set[str]:
        """Claim feeds' polls, ``(name, url, until)`` each, in one request; returns the names claimed.

        A claim is written only over the version of the feed's document that ``slots`` read (or creates
        the document when there was none), so of several pollers that found a feed due, one wins; a
        poll's own state write replaces the document and with it the claim.
        """
        operations: list[dict[str, Any]] = []
        for name, url, until in claims:
            slot = slots.get(name, Slot())
            if slot.seq_no is None:
                operations += [{"create": {"_index": self.index, "_id": name}},
                               {"name": name, "url": url, "pending": False, CLAIM_FIELD: iso_z(until)}]
            else:
                operations += [{"update": {"_index": self.index, "_id": name, "if_seq_no": slot.seq_no,
                                           "if_primary_term": slot.primary_term}},
                               {"doc": {CLAIM_FIELD: iso_z(until)}}]
        if not operations:
            return set()
        resp = self.client.bulk(operations=operations)
        return {name for (name, _, _), item in zip(claims, resp["items"], strict=True)
                if next(iter(item.values())).get("status") in (200, 201)}

    def commit_pending(self, reached: Callable[[list[str]], set[str]] | None = None) -> int:
        """Make every pending state the feed's state; call once the run's articles are safely indexed.

        ``reached``: of the given article ids, those the index (or the dead letters) holds. A feed whose
        passed-on articles did not all get there keeps its state pending, whatever the runner reported:
        ``StoriesMissing`` names those feeds after the others are committed, and the next run (or the
        stream's next wake-up) reads them again.
        """
        if not self.client.indices.exists(index=self.index):
            return 0
        self.client.indices.refresh(index=self.index)
        resp = self.client.search(index=self.index, size=10_000, query={"term": {"pending": True}})
        docs = [hit["_source"] for hit in resp["hits"]["hits"]]
        held: dict[str, int] = {}
        if reached is not None:
            wanted = sorted({i for d in docs for i in d.get("article_ids") or []})
            found = reached(wanted) if wanted else set()
            held = {d["name"]: n for d in docs if (n := sum(i not in found for i in d.get("article_ids") or []))}
        states = [FeedState.from_doc(d) for d in docs if d["name"] not in held]
        self.put_current(states)
        if held:
            raise StoriesMissing(held, committed=len(states))
        return len(states)
