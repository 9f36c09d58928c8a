"""One batch placed at a time per alias, across every worker and run: a lease held in Elasticsearch.

Without it, two workers placing copies of one story at the same moment each found a story and must
reconcile afterwards (``StoryStore._settle``); a third copy placed while they reconcile can still keep
the story that is about to move. Placing a batch takes a few requests (tens of milliseconds) and runs
on its own thread beside the entity stage, so queuing for it costs workers little, and with it every
batch sees every batch placed before it.

The lease is one document, created with ``op_type=create`` (a conflict means someone holds it) and
deleted on release only if it is still ours (``if_seq_no``). A holder that died leaves a lease that
runs out after ``lease`` seconds; the next worker takes it over with a conditional write. Should a
placement outlive its lease (Elasticsearch busy for minutes), the settle step still reconciles.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from elasticsearch import BadRequestError, ConflictError, Elasticsearch, NotFoundError

log = logging.getLogger(__name__)

LOCK_ID = "placing"
LOCK_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {"holder": {"type": "keyword", "index": False}, "until": {"type": "double", "index": False}},
}


class PlacingLock:
    """``with lock.held(): ...`` — mutual exclusion over one Elasticsearch document."""

    def __init__(self, client: Elasticsearch, index: str, *, lease: float = 120.0,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep,
                 retry: Callable[[Callable[[], Any]], Any] = lambda call: call()) -> None:
        self.client = client
        self.retry = retry  # waits out a busy cluster (the store's backoff); a conflict is an answer, not an error
        self.index = index
        self.lease = lease
        self.clock = clock
        self.sleep = sleep

    def ensure_index(self) -> None:
        if self.client.indices.exists(index=self.index):
            return
        try:
            self.client.indices.create(index=self.index, mappings=LOCK_MAPPINGS, settings={"number_of_shards": 1})
        except BadRequestError as e:
            if "resource_already_exists" not in str(e):
                raise

    @contextmanager
    def held(self) -> Iterator[None]:
        token = self.acquire()
        try:
            yield
        finally:
            self.release(token)

    def acquire(self) -> tuple[int, int]:
        """Waits for the lease; returns its (seq_no, primary_term), the proof of holding it."""
        holder, pause = uuid.uuid4().hex, 0.005
        while True:
            doc = {"holder": holder, "until": self.clock() + self.lease}
            try:
                resp = self.retry(partial(self.client.index, index=self.index, id=LOCK_ID, document=doc,
                                          op_type="create"))
                return int(resp["_seq_no"]), int(resp["_primary_term"])
            except ConflictError:
                pass
            taken = self._take_over_expired(doc)
            if taken is not None:
                return taken
            self.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 2, 0.1)

    def _take_over_expired(self, doc: dict[str, Any]) -> tuple[int, int] | None:
        try:
            current = self.retry(lambda: self.client.get(index=self.index, id=LOCK_ID))
        except NotFoundError:
            return None  # released meanwhile: create again
        if float(current["_source"].get("until", 0)) >= self.clock():
            return None
        try:
            resp = self.retry(lambda: self.client.index(
                index=self.index, id=LOCK_ID, document=doc,
                if_seq_no=current["_seq_no"], if_primary_term=current["_primary_term"]))
        except ConflictError:
            return None  # another worker took it over first
        log.warning("Took over the story placing lease of %s: its holder let it run out", self.index)
        return int(resp["_seq_no"]), int(resp["_primary_term"])

    def release(self, token: tuple[int, int]) -> None:
        try:
            self.retry(lambda: self.client.delete(index=self.index, id=LOCK_ID,
                                                  if_seq_no=token[0], if_primary_term=token[1]))
        except (ConflictError, NotFoundError):
            log.warning("The story placing lease of %s ran out before the batch was placed", self.index)
