"""Politeness per host: a few requests at a time (one by default), a gap after each, and ``Retry-After``.

The gap spares the publisher's server, so it follows what the last request cost that server: a page
(a 200 with a body) is followed by ``min_gap``, an answer without a body (304 Not Modified, a redirect)
by the shorter ``min_gap_not_modified``. A host's robots.txt ``Crawl-delay`` raises both (capped).

Per process: a ``HostGate`` is shared by every client of the process; parallel workers in other
processes each keep their own gate.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from transforms.sources.errors import FetchError

DEFAULT_MIN_GAP = 0.5
DEFAULT_MIN_GAP_NOT_MODIFIED = 0.02
DEFAULT_MAX_CRAWL_DELAY = 10.0
DEFAULT_MAX_TTL = 3600.0


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass(frozen=True)
class HostLimit:
    """One host's own limits (``fetch.hosts``); None keeps the default of ``FetchPolicy``."""

    min_gap: float | None = None
    min_gap_not_modified: float | None = None
    concurrency: int = 1


@dataclass(frozen=True)
class FetchPolicy:
    """What a client asks of itself towards publishers: gaps, per-host limits, robots.txt, declared intervals.

    ``min_gap`` None: the gate's own default. ``max_crawl_delay`` caps a robots.txt ``Crawl-delay``;
    ``max_ttl`` caps a feed's declared ``ttl``/``sy:updatePeriod`` (0: declared intervals are ignored).
    """

    min_gap: float | None = None
    min_gap_not_modified: float = DEFAULT_MIN_GAP_NOT_MODIFIED
    hosts: dict[str, HostLimit] = field(default_factory=dict)
    robots: bool = True
    max_crawl_delay: float = DEFAULT_MAX_CRAWL_DELAY
    max_ttl: float = DEFAULT_MAX_TTL

    def limit(self, host: str) -> HostLimit:
        return self.hosts.get(host.lower(), _NO_LIMIT)

    def concurrency(self, host: str) -> int:
        """Requests (and polls) at once to ``host``."""
        return self.limit(host).concurrency

    def gaps(self, host: str, default: float) -> tuple[float, float]:
        """(after a page, after an answer without a body) for ``host``; ``default`` stands for an unset min_gap."""
        limit = self.limit(host)
        page = limit.min_gap if limit.min_gap is not None else (self.min_gap if self.min_gap is not None
                                                                   else default)
        cheap = (limit.min_gap_not_modified if limit.min_gap_not_modified is not None
                 else self.min_gap_not_modified)
        return page, min(cheap, page)


_NO_LIMIT = HostLimit()


class Ticket:
    """A held slot at a host; the request sets ``gap``, the pause its answer asks of the next request."""

    def __init__(self, gap: float) -> None:
        self.gap = gap


class _Host:
    """One host's lanes: ``free`` holds when each free lane may start its next request."""

    def __init__(self, concurrency: int) -> None:
        self.cond = threading.Condition()
        self.free = [-1e18] * concurrency
        self.busy = 0
        self.not_before = 0.0


class HostGate:
    """A few requests at a time per host (``concurrency``, 1 by default), a gap after each, and a host-wide
    ``Retry-After``.

    Each of a host's ``concurrency`` lanes waits out the gap its own last request asked for. Shared by
    every client of the process (``HostGate.shared()``); waits are bounded by ``max_wait``: a host that
    asks for a longer pause fails fast with kind ``host_backoff`` instead of blocking a worker.
    """

    _shared: HostGate | None = None
    _shared_lock = threading.Lock()

    def __init__(self, min_gap: float = DEFAULT_MIN_GAP, max_wait: float = 30.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.min_gap = min_gap
        self.max_wait = max_wait
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._hosts: dict[str, _Host] = {}
        self._waited = threading.local()

    @classmethod
    def shared(cls) -> HostGate:
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = HostGate()
            return cls._shared

    def _host(self, host: str, concurrency: int) -> _Host:
        with self._lock:
            h = self._hosts.get(host)
            if h is None:
                h = self._hosts[host] = _Host(max(1, concurrency))
            elif concurrency > len(h.free) + h.busy:  # a client allowing more lanes than the first one
                h.free += [-1e18] * (concurrency - len(h.free) - h.busy)
            return h

    def waited(self) -> float:
        """Seconds the calling thread has slept at this gate so far (gaps and ``Retry-After``).

        Per thread, so a poll can tell its own wait from that of polls running beside it.
        """
        return getattr(self._waited, "seconds", 0.0)

    def defer(self, host: str, seconds: float) -> None:
        """No request to ``host`` for ``seconds`` (a 429/503 ``Retry-After``)."""
        h = self._host(host, 1)
        with h.cond:
            h.not_before = max(h.not_before, self._clock() + seconds)

    @contextmanager
    def slot(self, host: str, *, min_gap: float | None = None, concurrency: int = 1) -> Iterator[Ticket]:
        """Hold one of the host's lanes for a request; the gap after it is the ticket's (``min_gap`` unless
        the request sets another)."""
        ticket = Ticket(self.min_gap if min_gap is None else min_gap)
        h = self._host(host, concurrency)
        with h.cond:
            if not h.cond.wait_for(lambda: bool(h.free), timeout=self.max_wait + 1.0):
                raise FetchError("host_backoff", f"{host}: other requests have held the host for too long")
            ready = heapq.heappop(h.free)
            h.busy += 1
            wait = max(ready, h.not_before) - self._clock()
        sent = False
        try:
            if wait > self.max_wait:
                raise FetchError("host_backoff", f"{host}: asked to wait {wait:.0f}s more", retry_after=wait)
            if wait > 0:
                self._sleep(wait)
                self._waited.seconds = self.waited() + wait
            sent = True
            yield ticket
        finally:
            with h.cond:  # the gap runs from the end of this request; a lane given up keeps its time
                heapq.heappush(h.free, self._clock() + max(0.0, ticket.gap) if sent else ready)
                h.busy -= 1
                h.cond.notify()
