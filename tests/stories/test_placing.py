"""The stories DoFn places one batch at a time on its own thread and hands batches on in arrival order."""

from __future__ import annotations

import threading
import time

from apache_beam.metrics import Metrics

from transforms.article import Article
from transforms.stories.signature import Hasher
from transforms.stories.store import Placement
from transforms.stories.transform import _AssignStoriesFn, placing_thread


class SlowStore:
    """Stands in for the Elasticsearch store: records the order of batches and whether two ever overlapped."""

    def __init__(self) -> None:
        self.retried = 0
        self.batches: list[list[str]] = []
        self.busy = threading.Lock()
        self.overlapped = False
        self.threads: set[str] = set()

    def place(self, arrivals, now):
        if not self.busy.acquire(blocking=False):
            self.overlapped = True
            self.busy.acquire()
        try:
            self.threads.add(threading.current_thread().name)
            time.sleep(0.02)
            self.batches.append([a.article_id for a in arrivals])
            return {a.article_id: Placement(f"story-of-{a.article_id}", now, "src") for a in arrivals}
        finally:
            self.busy.release()


def fn_with(store: SlowStore, batch_size: int) -> _AssignStoriesFn:
    fn = _AssignStoriesFn(settings=None, batch_size=batch_size)  # type: ignore[arg-type]
    fn.store, fn.hasher = store, Hasher()
    fn.placer = placing_thread()
    for name in ("founded", "joined", "retried"):
        setattr(fn, name, Metrics.counter("test", name))
    fn.hash_us, fn.place_ms = Metrics.distribution("test", "h"), Metrics.distribution("test", "p")
    return fn


def article(n: int) -> Article:
    return Article(id=f"a{n}", guid=f"a{n}", url="", canonical_url="", title=f"Story {n}",
                   text=f"Body of story number {n} about the harbour accord signed in May.")


def test_batches_place_in_order_one_at_a_time_off_the_main_thread_and_all_come_out():
    store = SlowStore()
    fn = fn_with(store, batch_size=3)
    fn.start_bundle()
    out = []
    for n in range(10):
        out += list(fn.process(article(n), timestamp=0, window=None))
        if n == 5:
            # Two batches submitted: the first is handed on while the second places.
            assert [a.id for a in out] == ["a0", "a1", "a2"]
    out += [wv.value for wv in fn.finish_bundle()]
    assert [a.id for a in out] == [f"a{n}" for n in range(10)]
    assert all(a.story == {"id": f"story-of-{a.id}", "first_seen_at": a.story["first_seen_at"],
                           "first_source": "src"} for a in out)
    assert store.batches == [["a0", "a1", "a2"], ["a3", "a4", "a5"], ["a6", "a7", "a8"], ["a9"]]
    assert not store.overlapped
    assert store.threads and all(t.startswith("place-stories") for t in store.threads)
    fn.placer.shutdown()


def test_a_failed_placing_fails_the_bundle():
    store = SlowStore()

    def broken(arrivals, now):
        raise ConnectionError("Elasticsearch went away")

    store.place = broken  # type: ignore[method-assign]
    fn = fn_with(store, batch_size=2)
    fn.start_bundle()
    list(fn.process(article(1), timestamp=0, window=None))
    try:
        list(fn.process(article(2), timestamp=0, window=None))
        list(fn.finish_bundle())
    except ConnectionError as e:
        assert "went away" in str(e)
    else:
        raise AssertionError("a placing that failed was not raised")
