"""Politeness per host: one request at a time, a minimum gap between requests, and ``Retry-After``.

Per process: a ``HostGate`` is shared by every client of the process; parallel workers in other
processes each keep their own gate.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from email.utils import parsedate_to_datetime

from transforms.sources.errors import FetchError


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


class HostGate:
    """One request at a time per host, a minimum gap between them, and a host-wide ``Retry-After``.

    Shared by every client of the process (``HostGate.shared()``); waits are bounded by ``max_wait``:
    a host that asks for a longer pause fails fast with kind ``host_backoff`` instead of blocking a worker.
    """

    _shared: HostGate | None = None
    _shared_lock = threading.Lock()

    def __init__(self, min_gap: float = 0.5, max_wait: float = 30.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.min_gap = min_gap
        self.max_wait = max_wait
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._host_locks: dict[str, threading.Lock] = {}
        self._last: dict[str, float] = {}
        self._not_before: dict[str, float] = {}
        self._waited = threading.local()

    @classmethod
    def shared(cls) -> HostGate:
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = HostGate()
            return cls._shared

    def _host_lock(self, host: str) -> threading.Lock:
        with self._lock:
            return self._host_locks.setdefault(host, threading.Lock())

    def waited(self) -> float:
        """Seconds the calling thread has slept at this gate so far (politeness and ``Retry-After``).

        Per thread, so a poll can tell its own wait from that of polls running beside it.
        """
        return getattr(self._waited, "seconds", 0.0)

    def defer(self, host: str, seconds: float) -> None:
        """No request to ``host`` for ``seconds`` (a 429/503 ``Retry-After``)."""
        with self._lock:
            until = self._clock() + seconds
            self._not_before[host] = max(self._not_before.get(host, 0.0), until)

    @contextmanager
    def slot(self, host: str, *, min_gap: float | None = None):
        gap = self.min_gap if min_gap is None else min_gap
        lock = self._host_lock(host)
        if not lock.acquire(timeout=self.max_wait + 1.0):
            raise FetchError("host_backoff", f"{host}: another request has held the host for too long")
        try:
            now = self._clock()
            ready = max(self._last.get(host, -1e18) + gap, self._not_before.get(host, 0.0))
            wait = ready - now
            if wait > self.max_wait:
                raise FetchError("host_backoff", f"{host}: asked to wait {wait:.0f}s more",
                                 retry_after=wait)
            if wait > 0:
                self._sleep(wait)
                self._waited.seconds = self.waited() + wait
            try:
                yield
            finally:
                self._last[host] = self._clock()  # the gap runs from the end of this request
        finally:
            lock.release()
