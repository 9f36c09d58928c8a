"""The placing lease on the real local Elasticsearch: one holder at a time, and a lease left behind runs out."""

from __future__ import annotations

import threading
import time

import pytest

from transforms.stories.lock import LOCK_ID, PlacingLock

pytestmark = pytest.mark.integration


@pytest.fixture
def lock_index(es_client, es_settings) -> str:
    index = f"{es_settings.index}-story-lock"
    PlacingLock(es_client, index).ensure_index()
    return index


def test_one_holder_at_a_time(es_client, lock_index):
    inside, most, entered = [0], [0], []
    guard = threading.Lock()

    def work(n: int) -> None:
        lock = PlacingLock(es_client, lock_index)
        for _ in range(5):
            with lock.held():
                with guard:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                entered.append(n)
                time.sleep(0.01)  # a placement's requests; others must queue meanwhile
                with guard:
                    inside[0] -= 1

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(entered) == sorted(n for n in range(4) for _ in range(5))
    assert most[0] == 1
    assert es_client.options(ignore_status=404).get(index=lock_index, id=LOCK_ID).get("found") is False


def test_a_lease_whose_holder_died_is_taken_over_once_it_runs_out(es_client, lock_index, caplog):
    dead = PlacingLock(es_client, lock_index, lease=0.3)
    token = dead.acquire()  # never released: the worker died
    start = time.perf_counter()
    heir = PlacingLock(es_client, lock_index)
    with heir.held():
        waited = time.perf_counter() - start
        assert waited >= 0.2
        dead.release(token)  # too late: must not free the heir's lease
        doc = es_client.get(index=lock_index, id=LOCK_ID)
        assert doc["found"]
    assert "ran out" in caplog.text and "Took over" in caplog.text
