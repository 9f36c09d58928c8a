"""A loopback fault proxy in front of Elasticsearch: outages, slowness, 429/503 and connection resets.

Every request is forwarded to the real node unless a ``Fault`` that matches it fires. A fault matches a
method and a path pattern and fires on a share of the matching requests (seeded, so a run is
repeatable) or on every n-th of them (``every``: certain to happen in any run long enough), optionally
only from the n-th match on and at most a number of times. What it does:

- ``status``: answer with that status and an Elasticsearch-shaped error, nothing forwarded (429, 503);
- ``items_429``: forward a ``_bulk`` without some of its items and answer those with a per-item 429;
- ``slow``: forward, then hold the answer for ``seconds`` (longer than the client's timeout: the write
  lands but the client never hears so, and sends it again);
- ``reset_before`` / ``reset_after``: a TCP reset instead of forwarding, or after forwarding (the write
  lands, the answer is lost);
- ``hold``: forward nothing and wait until ``release()`` (a batch that is in flight when the test kills
  the pipeline).

``cut()`` stops listening and drops every open connection, as a stopped node does; ``restore()`` listens
again on the same port. ``cut_after(n, seconds)`` cuts right after the n-th forwarded ``_bulk`` (its
answer is lost too) and restores after ``seconds`` (None: stays cut).

Only ever binds 127.0.0.1; the node behind it is never stopped.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import socket
import struct
import threading
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlparse

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "upgrade", "te"}
BULK = r"/_bulk"
MGET = r"/_mget"
DATA_PATH = r"/_bulk|/_mget"  # the sink's writes and the stored-hash lookups


@dataclass
class Fault:
    action: str  # status | items_429 | slow | reset_before | reset_after | hold
    path: str = DATA_PATH  # a regular expression searched in the request path
    share: float = 1.0
    every: int | None = None  # fire on every n-th matching request instead of a random share
    status: int = 503
    seconds: float = 0.0
    item_share: float = 0.3  # items_429: the share of a bulk's items answered 429
    after: int = 0  # only from the (after+1)-th matching request on
    limit: int | None = None  # fire at most this many times
    method: str | None = None
    seen: int = 0
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or method == self.method) and re.search(self.path, path) is not None


@dataclass
class Stats:
    forwarded: Counter = field(default_factory=Counter)  # by path kind
    faults: Counter = field(default_factory=Counter)  # by action
    items_rejected: int = 0
    cuts: int = 0


class FaultProxy:
    def __init__(self, upstream: str, faults: list[Fault] | None = None, *, seed: int = 11) -> None:
        u = urlparse(upstream)
        self.upstream = (u.hostname or "127.0.0.1", u.port or 9200)
        self.faults = list(faults or [])
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.stats = Stats()
        self.port = 0
        self.listener: socket.socket | None = None
        self.clients: set[socket.socket] = set()
        self.released = threading.Event()
        self._cut_at: tuple[int, float | None] | None = None
        self._cut_pattern = BULK
        self._cut_counted = 0
        self._timers: list[threading.Timer] = []
        self._listen()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- control -----------------------------------------------------------------------

    def cut(self) -> None:
        with self.lock:
            self.stats.cuts += 1
            listener, self.listener = self.listener, None
            clients, self.clients = self.clients, set()
        if listener is not None:
            try:  # wakes the thread blocked in accept(); close() alone would leave the port listening
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        for c in clients:
            _reset(c)

    def restore(self) -> None:
        with self.lock:
            if self.listener is not None:
                return
        self._listen()

    def cut_after(self, n: int, seconds: float | None, pattern: str = BULK) -> None:
        """Cut every connection when the request after the ``n``-th bulk matching ``pattern`` arrives
        (a regex on the path: ``/<alias>/_bulk`` counts the sink's article writes only); back after
        ``seconds``, or never."""
        with self.lock:
            self._cut_at, self._cut_pattern, self._cut_counted = (n, seconds), pattern, 0

    def release(self) -> None:
        self.released.set()

    def close(self) -> None:
        self._cut_at = None
        self.released.set()
        for t in self._timers:
            t.cancel()
        self.cut()

    # -- plumbing ----------------------------------------------------------------------

    def _listen(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(64)
        self.port = sock.getsockname()[1]
        with self.lock:
            self.listener = sock
        threading.Thread(target=self._accept, args=(sock,), daemon=True).start()

    def _accept(self, sock: socket.socket) -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with self.lock:
                if self.listener is not sock:
                    _reset(conn)
                    return
                self.clients.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _pick(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if not fault.matches(method, path):
                    continue
                fault.seen += 1
                if fault.seen <= fault.after or (fault.limit is not None and fault.fired >= fault.limit):
                    continue
                due = ((fault.seen - fault.after) % fault.every == 0) if fault.every else (
                    self.rng.random() < fault.share)
                if due:
                    fault.fired += 1
                    self.stats.faults[fault.action] += 1
                    return fault
        return None

    def _serve(self, conn: socket.socket) -> None:
        upstream = http.client.HTTPConnection(*self.upstream, timeout=120)
        reader = conn.makefile("rb")
        try:
            while True:
                request = _read_request(reader)
                if request is None:
                    return
                method, target, headers, body = request
                path = target.split("?", 1)[0]
                fault = self._pick(method, path)
                action = fault.action if fault else "forward"
                if action == "reset_before":
                    return _reset(conn)
                if action == "hold":
                    self.released.wait()
                    return _reset(conn)
                if action == "status":
                    assert fault is not None
                    if "/_bulk" in path:  # every item of a refused bulk is sent again
                        with self.lock:
                            self.stats.items_rejected += len(_operations(body))
                    self._answer(conn, fault.status, [("Content-Type", "application/json")], _error(fault.status))
                    continue
                rejected: list[int] = []
                if action == "items_429" and "/_bulk" in path:
                    assert fault is not None
                    body, rejected = _drop_items(body, fault.item_share, self.rng)
                status, resp_headers, resp_body = self._forward(upstream, method, target, headers, body)
                if rejected:
                    resp_body = _merge_rejections(resp_body, rejected)
                    with self.lock:
                        self.stats.items_rejected += len(rejected)
                if self._bulk_cut_due(path):
                    return
                if action == "reset_after":
                    return _reset(conn)
                if action == "slow":
                    assert fault is not None
                    if self.released.wait(fault.seconds):
                        return _reset(conn)
                self._answer(conn, status, resp_headers, resp_body)
        except (OSError, http.client.HTTPException, ValueError):
            return
        finally:
            upstream.close()
            with self.lock:
                self.clients.discard(conn)
            _close(conn)

    def _forward(self, upstream: http.client.HTTPConnection, method: str, target: str,
                 headers: list[tuple[str, str]], body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        send_headers = {k: v for k, v in headers if k.lower() not in _HOP}
        upstream.request(method, target, body=body if body or method in ("POST", "PUT") else None,
                         headers=send_headers)
        resp = upstream.getresponse()
        data = resp.read()
        kind = "bulk" if "/_bulk" in target else "mget" if "/_mget" in target else "other"
        with self.lock:
            self.stats.forwarded[kind] += 1
            if kind == "bulk" and re.search(self._cut_pattern, target.split("?", 1)[0]):
                self._cut_counted += 1
        return resp.status, resp.getheaders(), data

    def _bulk_cut_due(self, path: str) -> bool:
        if "/_bulk" not in path or self._cut_at is None:
            return False
        with self.lock:
            trigger = self._cut_at
            if trigger is None or not re.search(self._cut_pattern, path) or self._cut_counted < trigger[0]:
                return False
            self._cut_at = None
        threading.Thread(target=self.cut, daemon=True).start()
        if trigger[1] is not None:
            timer = threading.Timer(trigger[1], self.restore)
            self._timers.append(timer)
            timer.start()
        return True

    @staticmethod
    def _answer(conn: socket.socket, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        head = [f"HTTP/1.1 {status} {http.client.responses.get(status, '')}"]
        head += [f"{k}: {v}" for k, v in headers if k.lower() not in _HOP]
        if not any(k.lower() == "x-elastic-product" for k, _ in headers):
            head.append("X-Elastic-Product: Elasticsearch")
        head += [f"Content-Length: {len(body)}", "", ""]
        conn.sendall("\r\n".join(head).encode("latin-1") + body)


def _error(status: int) -> bytes:
    kind = {429: "es_rejected_execution_exception", 503: "unavailable_shards_exception"}.get(status, "exception")
    err = {"type": kind, "reason": f"injected by the fault proxy ({status})"}
    return json.dumps({"error": {"root_cause": [err], **err}, "status": status}).encode()


def _operations(body: bytes) -> list[list[bytes]]:
    """A bulk body as its operations: an action line, and the source line of all but a delete."""
    lines = [ln for ln in body.split(b"\n") if ln.strip()]
    operations, i = [], 0
    while i < len(lines):
        size = 1 if b'"delete"' in lines[i].split(b":", 1)[0] else 2
        operations.append(lines[i:i + size])
        i += size
    return operations


def _drop_items(body: bytes, share: float, rng: random.Random) -> tuple[bytes, list[int]]:
    """The bulk body without a share of its operations (one is always kept), and their places."""
    operations = _operations(body)
    rejected = [i for i in range(len(operations)) if rng.random() < share]
    if len(rejected) == len(operations):
        rejected = rejected[1:]
    dropped = set(rejected)
    keep = [line for i, op in enumerate(operations) if i not in dropped for line in op]
    return b"\n".join(keep) + b"\n", rejected


def _merge_rejections(resp_body: bytes, rejected: list[int]) -> bytes:
    data = json.loads(resp_body or b"{}")
    items = list(data.get("items") or [])
    err = {"type": "es_rejected_execution_exception", "reason": "injected by the fault proxy (429)"}
    for pos in sorted(rejected):
        items.insert(pos, {"index": {"status": 429, "error": err}})
    data["items"] = items
    data["errors"] = True
    return json.dumps(data).encode()


def _read_request(reader) -> tuple[str, str, list[tuple[str, str]], bytes] | None:
    line = reader.readline(65537)
    if not line:
        return None
    parts = line.decode("latin-1").strip().split(" ")
    if len(parts) != 3:
        raise ValueError(f"bad request line {line!r}")
    method, target, _ = parts
    headers: list[tuple[str, str]] = []
    while True:
        h = reader.readline(65537)
        if h in (b"\r\n", b"\n", b""):
            break
        k, _, v = h.decode("latin-1").partition(":")
        headers.append((k.strip(), v.strip()))
    lower = {k.lower(): v for k, v in headers}
    if lower.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(reader.readline().split(b";")[0], 16)
            if size == 0:
                reader.readline()
                break
            chunks.append(reader.read(size))
            reader.readline()
        body = b"".join(chunks)
    else:
        body = reader.read(int(lower.get("content-length") or 0))
    return method, target, headers, body


def _reset(conn: socket.socket) -> None:
    """Abort the connection: the client sees it reset or closed with no answer.

    ``shutdown`` acts at once, even while the serving thread's file object still holds the socket (a
    plain ``close`` would wait for it and leave a kept-alive connection working through a "cut").
    """
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    _close(conn)


def _close(conn: socket.socket) -> None:
    try:
        conn.close()
    except OSError:
        pass
