"""robots.txt per origin, parsed by protego: read once per ``ttl``, then asked for every URL of that origin.

A publisher's robots.txt says which paths a crawler may fetch and how long to wait between requests
(``Crawl-delay``). A robots.txt that is missing (404), unreadable or unreachable allows everything: a
feed is not given up because its publisher's robots.txt is broken. The rules are kept for ``ttl``
seconds, so a run reads each origin's robots.txt once and a stream re-reads it now and then.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from protego import Protego

log = logging.getLogger(__name__)

ROBOTS_TTL = 3600.0
ROBOTS_MAX_BYTES = 500_000  # what the big crawlers read of a robots.txt (RFC 9309 asks for at least 500 KiB)


@dataclass(frozen=True)
class RobotsAnswer:
    allowed: bool
    crawl_delay: float | None = None  # seconds, as the robots.txt says it (uncapped)


def robots_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.rpartition('@')[2].lower()}/robots.txt"


class RobotsCache:
    """The rules of each origin, read through ``read`` (robots.txt URL -> its text, or None for "no rules").

    ``read`` may raise: a robots.txt that cannot be had is no rules, kept for ``ttl`` like any other.
    Thread-safe: threads asking about one origin at once wait for a single read.
    """

    def __init__(self, read: Callable[[str], str | None], user_agent: str, *, ttl: float = ROBOTS_TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.read = read
        self.user_agent = user_agent
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._origins: dict[str, tuple[float, Protego | None]] = {}
        self._origin_locks: dict[str, threading.Lock] = {}
        self.reads = 0  # robots.txt requests made, for tests and logs

    def check(self, url: str) -> RobotsAnswer:
        """May ``url`` be fetched, and the Crawl-delay of its origin."""
        rules = self._rules(robots_url(url))
        if rules is None:
            return RobotsAnswer(True)
        return RobotsAnswer(rules.can_fetch(url, self.user_agent), rules.crawl_delay(self.user_agent))

    def _rules(self, where: str) -> Protego | None:
        with self._lock:
            lock = self._origin_locks.setdefault(where, threading.Lock())
        with lock:
            cached = self._origins.get(where)
            if cached is not None and self._clock() < cached[0]:
                return cached[1]
            self.reads += 1
            try:
                text = self.read(where)
                rules = Protego.parse(text) if text else None
            except Exception as e:  # noqa: BLE001 - an unreadable robots.txt allows everything
                log.info("%s: not read (%s): every path allowed", where, e)
                rules = None
            self._origins[where] = (self._clock() + self.ttl, rules)
            return rules
