"""The stream's memory of stories already passed: once per (id, content), least recently met out first, and a
fixed cost per entry whatever the ids look like."""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from pipeline.stream import SeenCache, seen_key


def held_bytes(ids: list[str]) -> int:
    """Bytes a full cache of ``ids`` still holds once the caller's strings are gone."""
    gc.collect()
    tracemalloc.start()
    try:
        cache = SeenCache(capacity=len(ids))
        for i, article_id in enumerate(ids):
            cache.first_time((article_id, f"{i:064x}"))
        gc.collect()
        return tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()


def test_each_story_passes_once_and_changed_content_again():
    seen = SeenCache(capacity=10)
    assert seen.first_time(("id1", "h1"))
    assert not seen.first_time(("id1", "h1"))
    assert seen.first_time(("id1", "h2"))
    assert seen.first_time(("id2", "h1"))
    assert len(seen) == 3


def test_the_least_recently_met_goes_first():
    seen = SeenCache(capacity=2)
    seen.first_time(("a", "h"))
    seen.first_time(("b", "h"))
    assert not seen.first_time(("a", "h"))  # met again: now the most recent
    seen.first_time(("c", "h"))  # evicts b, not a
    assert len(seen) == 2
    assert not seen.first_time(("a", "h"))
    assert seen.first_time(("b", "h"))


def test_pairs_that_join_to_the_same_text_stay_apart():
    assert seen_key("ab", "c") != seen_key("a", "bc")
    assert len(seen_key("x" * 5000, "h")) == 16


def test_an_entry_costs_the_same_for_long_and_short_ids():
    n = 2000
    short = held_bytes([f"s{i}" for i in range(n)])
    long = held_bytes([f"https://wire.example.org/{'story/' * 200}{i}" for i in range(n)])  # 1.2 KB ids
    assert abs(long - short) < 0.05 * short, (short, long)
    assert long / n < 200, long / n  # a digest and the dict's own slot, not the article's strings


def test_capacity_must_be_positive():
    with pytest.raises(ValueError):
        SeenCache(capacity=0)
