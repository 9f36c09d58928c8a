"""A worker's memory does not grow with the number of stories indexed: the store keeps no story state."""

from __future__ import annotations

import gc
import random
import tracemalloc

import pytest

from bench.corpus import AGENCIES, make_story
from transforms.sink.document import html_to_text
from transforms.stories import Hasher
from transforms.stories.store import Arrival, StoryStore

pytestmark = pytest.mark.integration

BATCH = 64


def arrivals(n: int, seed: int = 11) -> list[Arrival]:
    rng = random.Random(seed)
    h = Hasher()
    out = []
    for i in range(n):
        story = make_story(rng, AGENCIES[i % len(AGENCIES)], i, words=120)
        sig = h.signature(html_to_text(story.html))
        out.append(Arrival(story.guid, f"h{i}", story.published.isoformat().replace("+00:00", "Z"),
                           "bench", story.title, sig, tuple(h.band_keys(sig))))
    return out


def retained(snapshot: tracemalloc.Snapshot) -> int:
    """Bytes still held that were allocated by the story code or datasketch (after a collection)."""
    keep = [tracemalloc.Filter(True, "*/transforms/stories/*"), tracemalloc.Filter(True, "*/datasketch/*")]
    return sum(s.size for s in snapshot.filter_traces(keep).statistics("filename"))


def test_placing_more_stories_holds_no_more_memory(es_client, es_settings):
    store = StoryStore(es_client, es_settings.index)
    store.ensure_indices()
    items = arrivals(BATCH * 24)
    batches = [items[i:i + BATCH] for i in range(0, len(items), BATCH)]
    tracemalloc.start()
    try:
        for batch in batches[:4]:
            store.place(batch, "2026-11-02T00:00:00Z")
        gc.collect()
        early = retained(tracemalloc.take_snapshot())
        for batch in batches[4:]:
            store.place(batch, "2026-11-02T00:00:00Z")
        gc.collect()
        late = retained(tracemalloc.take_snapshot())
    finally:
        tracemalloc.stop()
    es_client.indices.refresh(index=store.keys_index)
    assert es_client.count(index=store.keys_index)["count"] == len(items)
    # 1,280 more stories placed; a kilobyte of state each would be 1.3 MB.
    assert late - early < 64 * 1024, (early, late)
