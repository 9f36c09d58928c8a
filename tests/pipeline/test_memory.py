"""Freed heap handed back on a schedule: at most once per interval, never where the C library cannot."""

from __future__ import annotations

import sys

import pytest

from pipeline.memory import HeapTrimmer, find_malloc_trim


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_trims_at_most_once_per_interval():
    clock, calls = Clock(), []
    trimmer = HeapTrimmer(every=30.0, trim=lambda: calls.append(clock.now), clock=clock)
    assert not trimmer.maybe_trim()  # just started
    clock.now += 29.9
    assert not trimmer.maybe_trim()
    clock.now += 0.1
    assert trimmer.maybe_trim()
    assert not trimmer.maybe_trim()  # the interval starts again at the trim
    clock.now += 45.0
    assert trimmer.maybe_trim()
    assert calls == [130.0, 175.0] and trimmer.trims == 2


def test_without_malloc_trim_nothing_is_called():
    clock = Clock()
    trimmer = HeapTrimmer(every=1.0, trim=None, clock=clock)
    clock.now += 10
    assert not trimmer.maybe_trim() and trimmer.trims == 0


def test_the_interval_must_be_positive():
    with pytest.raises(ValueError):
        HeapTrimmer(every=0)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_glibc_trim_is_found_and_returns_freed_pages():
    trim = find_malloc_trim()
    assert trim is not None
    assert trim() in (0, 1)  # 1: memory was released, 0: none was free
