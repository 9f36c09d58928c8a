"""Progress lines for long runs.

Beam's local runner reports metrics only when a run ends, so a pass-through
step logs its own count every few seconds; each worker process logs its share.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from typing import Any

import apache_beam as beam

log = logging.getLogger("wirenews.progress")


class ProgressClock:
    """Says when the next progress line is due; plain, so it is tested without Beam."""

    def __init__(self, every: float = 5.0, clock: Any = time.monotonic) -> None:
        self.every = every
        self.clock = clock
        self.count = 0
        self.started = clock()
        self._last = self.started

    def tick(self, n: int = 1) -> str | None:
        self.count += n
        now = self.clock()
        if now - self._last < self.every:
            return None
        self._last = now
        rate = self.count / max(now - self.started, 1e-9)
        return f"{self.count} so far ({rate:.1f}/s)"


class LogProgress(beam.DoFn):
    def __init__(self, what: str, every: float = 5.0) -> None:
        self.what = what
        self.every = every

    def setup(self) -> None:
        self._clock = ProgressClock(self.every)

    def process(self, element: Any) -> Iterator[Any]:
        line = self._clock.tick()
        if line:
            log.info("progress: %s %s [pid %d]", self.what, line, os.getpid())
        yield element
