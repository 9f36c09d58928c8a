"""The story store on the real local Elasticsearch: lookups, later runs, versions, and racing workers."""

from __future__ import annotations

import threading

import pytest

from tests.stories import testset
from transforms.stories import Hasher
from transforms.stories.store import Arrival, StoryStore

pytestmark = pytest.mark.integration

h = Hasher()
NOW = "2024-03-01T12:00:00Z"


def story(key: str) -> testset.Story:
    return next(s for s in testset.stories() if s.key == key)


def arrival(article_id: str, paras, seen: str = NOW, source: str = "wire", content_hash: str = "") -> Arrival:
    text = "\n\n".join(paras)
    sig = h.signature(text)
    return Arrival(article_id, content_hash or f"h-{hash(text) & 0xFFFFFFFF:x}", seen, source, article_id, sig,
                   tuple(h.band_keys(sig)))


@pytest.fixture
def store(es_client, es_settings) -> StoryStore:
    s = StoryStore(es_client, es_settings.index)
    s.ensure_indices()
    return s


def story_doc(store: StoryStore, story_id: str) -> dict:
    store.client.indices.refresh(index=store.stories_index)
    return store.client.get(index=store.stories_index, id=story_id)["_source"]


def test_copies_in_one_batch_and_in_later_batches_share_the_first_story(store):
    fed = story("who-malaria")
    quake = story("indonesia-quake")
    first = store.place([arrival("wire", fed.paragraphs, "2024-03-01T10:00:00Z", "AFP"),
                         arrival("portal-a", list(fed.paragraphs[:-1]) + ["Enditem"], "2024-03-01T10:05:00Z",
                                 "Portal A"),
                         arrival("quake", quake.paragraphs, "2024-03-01T10:01:00Z", "AFP")], NOW)
    assert first["wire"].story_id == first["portal-a"].story_id == "wire"
    assert first["quake"].story_id == "quake"
    assert first["portal-a"].first_source == "AFP" and first["portal-a"].first_seen_at == "2024-03-01T10:00:00Z"
    later = store.place([arrival("portal-b", [fed.paragraphs[0] + " " + fed.paragraphs[1], *fed.paragraphs[2:]],
                                 "2024-03-02T08:00:00Z", "Portal B")], NOW)
    assert later["portal-b"].story_id == "wire"
    doc = story_doc(store, "wire")
    assert doc["story"]["copies"] == 3 and doc["story"]["first_source"] == "AFP"
    assert set(doc["sources"]) == {"AFP", "Portal A", "Portal B"} and doc["title"] == "wire"
    assert story_doc(store, "quake")["story"]["copies"] == 1


def test_look_alikes_stay_apart(store):
    placed = store.place([arrival(k, story(k).paragraphs) for k in ("earn-harbor", "earn-harbor-q4", "earn-cobalt",
                                                                    "nk-ballistic", "nk-cruise")], NOW)
    assert len({p.story_id for p in placed.values()}) == 5


def test_a_later_version_keeps_its_story_and_a_rerun_adds_nothing(store):
    s = story("germany-budget")
    store.place([arrival("v", s.paragraphs, "2024-03-01T09:00:00Z", content_hash="h1"),
                 arrival("c", s.paragraphs[:-1])], NOW)
    rewritten = ["Germany's coalition reached a budget deal after talks that ran through the night."]
    again = store.place([arrival("v", rewritten + list(s.paragraphs[1:]), content_hash="h2")], NOW)
    assert again["v"].story_id == "v"
    rerun = store.place([arrival("v", rewritten + list(s.paragraphs[1:]), content_hash="h2")], NOW)
    assert rerun["v"].story_id == "v"
    store.client.indices.refresh(index=store.keys_index)
    assert store.client.count(index=store.keys_index, query={"term": {"article": "v"}})["count"] == 2
    assert story_doc(store, "v")["story"]["copies"] == 2  # versions are not copies


class _Gate:
    """Holds each worker after its first lookup until both have looked: the two see nothing of each other."""

    def __init__(self) -> None:
        self.barrier = threading.Barrier(2, timeout=30)

    def wrap(self, store: StoryStore) -> StoryStore:
        original = store._candidates
        calls = {"n": 0}

        def candidates(arrivals):
            out = original(arrivals)
            calls["n"] += 1
            if calls["n"] == 1:
                self.barrier.wait()
            return out

        store._candidates = candidates  # type: ignore[method-assign]
        return store


def test_two_workers_founding_the_same_story_at_once_converge(es_client, es_settings, store):
    """Both look up before either writes, so both found a story; after settling both hold the same one."""
    s = story("japan-extra-budget")
    gate = _Gate()
    workers = [gate.wrap(StoryStore(es_client, es_settings.index, exclusive=False)) for _ in range(2)]
    results: dict[str, dict] = {}

    def run(name: str, st: StoryStore, arr: Arrival) -> None:
        results[name] = st.place([arr], NOW)

    threads = [threading.Thread(target=run, args=("one", workers[0], arrival("kyodo", s.paragraphs))),
               threading.Thread(target=run, args=("two", workers[1], arrival("portal", [*s.paragraphs, "(END)"])))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    one, two = results["one"]["kyodo"].story_id, results["two"]["portal"].story_id
    assert one == two
    # The story kept is the one whose founder was written first, and a later copy joins it.
    later = store.place([arrival("third", s.paragraphs[:-1])], NOW)
    assert later["third"].story_id == one
    assert story_doc(store, one)["story"]["copies"] == 3


def pause_after_lookup(store: StoryStore) -> tuple[threading.Event, threading.Event]:
    """Makes ``store`` stop between its candidate lookup and its write: the first event is set when it has
    looked up, and it goes on once the second is set."""
    original, looked, go = store._candidates, threading.Event(), threading.Event()

    def candidates(arrivals):
        out = original(arrivals)
        looked.set()
        assert go.wait(30)
        return out

    store._candidates = candidates  # type: ignore[method-assign]
    return looked, go


def test_a_copy_seen_first_but_written_last_joins_the_story_written_first(es_client, es_settings, store):
    """a was first seen earlier, but its worker looked up, then b was placed, then a's worker wrote:
    b's story was written first, so a moves to it, and b (which could not see a) keeps its own."""
    s = story("china-asean-trade")
    a = arrival("a", s.paragraphs, "2024-03-01T09:00:00Z")
    b = arrival("b", [*s.paragraphs, "Enditem"], "2024-03-01T10:00:00Z")
    late = StoryStore(es_client, es_settings.index, exclusive=False)
    looked, b_written = pause_after_lookup(late)
    result: dict = {}
    worker = threading.Thread(target=lambda: result.update(late.place([a], NOW)))
    worker.start()
    assert looked.wait(30)
    first = store.place([b], NOW)
    b_written.set()
    worker.join(60)
    assert first["b"].story_id == "b" and result["a"].story_id == "b"
    assert story_doc(store, "b")["story"]["copies"] == 2


def test_without_other_writers_nothing_is_settled(store, monkeypatch):
    s = story("who-malaria")
    calls = []
    monkeypatch.setattr(store, "_settle", lambda *a: calls.append(a) or {})
    store.place([arrival("x", s.paragraphs)], NOW)
    store.place([arrival("y", s.paragraphs[:-1])], NOW)
    assert calls == []


def test_workers_placing_copies_at_once_under_the_lease_share_one_story(es_client, es_settings, store):
    """Six workers place a copy each at the same moment, and then six more: every copy lands in one story,
    without any settling, as each batch sees the batches placed before it."""
    s = story("nk-cruise")
    copies = [arrival(f"c{n}", [*s.paragraphs[: len(s.paragraphs) - n % 2], "Enditem" * (n % 3)]) for n in range(12)]
    stores = [StoryStore(es_client, es_settings.index) for _ in range(6)]
    start = threading.Barrier(6)
    results: dict[str, str] = {}

    def run(st: StoryStore, mine: list[Arrival]) -> None:
        for arr in mine:
            start.wait(30)
            results.update({i: p.story_id for i, p in st.place([arr], NOW).items()})

    threads = [threading.Thread(target=run, args=(st, copies[n::6])) for n, st in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == 12 and len(set(results.values())) == 1, results
    first = set(results.values()).pop()
    assert story_doc(store, first)["story"]["copies"] == 12


def test_under_the_lease_a_batch_waits_for_the_one_placing(es_client, es_settings, store, monkeypatch):
    """One worker is paused between its lookup and its write; another worker's copy waits for it instead
    of founding a story of its own, so nothing needs settling."""
    s = story("who-malaria")
    slow = StoryStore(es_client, es_settings.index)
    looked, go = pause_after_lookup(slow)
    settled: list = []
    monkeypatch.setattr(StoryStore, "_settle", lambda *a: settled.append(a) or {})
    results: dict = {}
    first = threading.Thread(target=lambda: results.update(slow.place([arrival("wire", s.paragraphs)], NOW)))
    first.start()
    assert looked.wait(30)
    second = threading.Thread(target=lambda: results.update(
        store.place([arrival("portal", [*s.paragraphs, "Enditem"])], NOW)))
    second.start()
    second.join(0.5)
    assert second.is_alive() and "portal" not in results  # queuing for the lease
    go.set()
    first.join(30)
    second.join(30)
    assert results["wire"].story_id == results["portal"].story_id == "wire"
    assert settled == []
