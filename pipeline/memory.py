"""Giving freed heap back to the system in long-lived workers.

A stream worker frees nearly all it allocates per story (its Python objects grow by a few dozen small
blocks per story), yet its resident memory kept climbing: glibc keeps the pages freed by parsing,
tagging and encoding inside its arenas (one per allocating thread: the fetch pool, the sink's bulk
threads, the bundle's own), and returns only the top of each heap on its own. ``malloc_trim(0)`` returns
every wholly free page of every arena. It costs milliseconds, so a worker calls it at most once per
``every`` seconds, from the thread that runs its bundles. Where the C library has no ``malloc_trim``
(macOS, musl) nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import apache_beam as beam

log = logging.getLogger(__name__)

TRIM_EVERY = 30.0  # seconds between two trims of one worker process


def find_malloc_trim() -> Callable[[], Any] | None:
    """glibc's ``malloc_trim(0)`` as a callable, or None where the C library has none."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        trim = libc.malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return lambda: trim(0)


class HeapTrimmer:
    """Calls ``trim`` at most once per ``every`` seconds of ``clock``; plain, so it is tested without Beam."""

    def __init__(self, every: float = TRIM_EVERY, trim: Callable[[], Any] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if every <= 0:
            raise ValueError(f"every must be positive, not {every}")
        self.every = every
        self.trim = trim
        self.clock = clock
        self.trims = 0
        self._last = clock()

    def maybe_trim(self) -> bool:
        """Trim when the interval has passed; True when it did."""
        now = self.clock()
        if self.trim is None or now - self._last < self.every:
            return False
        self.trim()
        self._last = now
        self.trims += 1
        return True


class ReleaseFreedMemory(beam.DoFn):
    """Passes elements on unchanged; gives the worker's freed heap back every ``every`` seconds of work."""

    def __init__(self, every: float = TRIM_EVERY) -> None:
        self.every = every

    def setup(self) -> None:
        trim = find_malloc_trim()
        if trim is None:
            log.debug("no malloc_trim in this C library: freed heap stays with the worker")
        self._trimmer = HeapTrimmer(self.every, trim)

    def process(self, element: Any) -> Iterator[Any]:
        yield element
        self._trimmer.maybe_trim()

    def finish_bundle(self) -> None:
        self._trimmer.maybe_trim()
