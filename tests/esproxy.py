"""A loopback fault proxy in front of Elasticsearch, for the sink's failure tests.

It forwards HTTP/1.1 requests to the real node and can:

- ``cut()`` and ``restore()``: stop listening and drop every open connection
  (the client sees "connection refused" / "connection reset", as when the node
  stops), then listen again on the same port;
- ``cut_after_bulk(n, seconds)``: cut right after the n-th forwarded ``_bulk``,
  restoring after ``seconds`` (None: stay cut), so an outage lands mid-run;
- ``reject_bulk_share``: answer a whole ``_bulk`` request with 429;
- ``reject_item_share``: forward a ``_bulk`` without some of its items and
  answer those items with a per-item 429 (``es_rejected_execution_exception``),
  as a node with a full write queue does.

Only ever binds 127.0.0.1. The shared node behind it is never stopped.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import threading
from urllib.parse import urlparse

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "upgrade", "te"}
_REJECT_ERROR = {"type": "es_rejected_execution_exception",
                 "reason": "rejected execution of coordinating operation (injected by the test proxy)"}


class EsProxy:
    def __init__(self, upstream: str, *, seed: int = 7) -> None:
        u = urlparse(upstream)
        self.upstream = (u.hostname or "127.0.0.1", u.port or 9200)
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.port = 0
        self.listener: socket.socket | None = None
        self.clients: set[socket.socket] = set()
        self.reject_bulk_share = 0.0
        self.reject_item_share = 0.0
        self.bulk_forwarded = 0
        self.bulk_rejected = 0
        self.items_rejected = 0
        self.cuts = 0
        self._cut_at: tuple[int, float | None] | None = None
        self._listen()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> EsProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- faults ------------------------------------------------------------------------

    def cut(self) -> None:
        with self.lock:
            self.cuts += 1
            listener, self.listener = self.listener, None
            clients, self.clients = self.clients, set()
        if listener is not None:
            listener.close()
        for c in clients:
            _drop(c)

    def restore(self) -> None:
        with self.lock:
            if self.listener is not None:
                return
        self._listen()

    def cut_after_bulk(self, n: int, seconds: float | None) -> None:
        self._cut_at = (n, seconds)

    def close(self) -> None:
        self._cut_at = None
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
                    _drop(conn)
                    return
                self.clients.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        upstream = http.client.HTTPConnection(*self.upstream, timeout=60)
        reader = conn.makefile("rb")
        try:
            while True:
                request = _read_request(reader)
                if request is None:
                    return
                method, target, headers, body = request
                status, resp_headers, resp_body = self._handle(upstream, method, target, headers, body)
                head = [f"HTTP/1.1 {status} {http.client.responses.get(status, '')}"]
                head += [f"{k}: {v}" for k, v in resp_headers if k.lower() not in _HOP]
                head += [f"Content-Length: {len(resp_body)}", "", ""]
                conn.sendall("\r\n".join(head).encode("latin-1") + resp_body)
        except (OSError, http.client.HTTPException, ValueError):
            return
        finally:
            upstream.close()
            with self.lock:
                self.clients.discard(conn)
            _drop(conn)

    def _handle(self, upstream: http.client.HTTPConnection, method: str, target: str,
                headers: list[tuple[str, str]], body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        is_bulk = "/_bulk" in target.split("?")[0] and method in ("POST", "PUT")
        if is_bulk and self.reject_bulk_share and self.rng.random() < self.reject_bulk_share:
            with self.lock:
                self.bulk_rejected += 1
                self.items_rejected += sum(1 for ln in body.split(b"\n") if ln.strip()) // 2
            payload = json.dumps({"error": {"root_cause": [_REJECT_ERROR], **_REJECT_ERROR}, "status": 429}).encode()
            return 429, [("Content-Type", "application/json"), ("X-Elastic-Product", "Elasticsearch")], payload
        rejected: list[int] = []
        if is_bulk and self.reject_item_share:
            body, rejected = _drop_items(body, self.reject_item_share, self.rng)
        send_headers = {k: v for k, v in headers if k.lower() not in _HOP}
        upstream.request(method, target, body=body if body or method in ("POST", "PUT") else None,
                         headers=send_headers)
        resp = upstream.getresponse()
        resp_body = resp.read()
        status, resp_headers = resp.status, resp.getheaders()
        if rejected:
            resp_body = _merge_rejections(resp_body, rejected)
            with self.lock:
                self.items_rejected += len(rejected)
        if is_bulk:
            with self.lock:
                self.bulk_forwarded += 1
                trigger = self._cut_at
                fire = trigger is not None and self.bulk_forwarded >= trigger[0]
                if fire:
                    self._cut_at = None
            if fire:
                assert trigger is not None
                seconds = trigger[1]
                threading.Thread(target=self.cut, daemon=True).start()
                if seconds is not None:
                    threading.Timer(seconds, self.restore).start()
                raise OSError("cut by the test proxy")  # this response never reaches the client
        return status, resp_headers, resp_body


def _drop_items(body: bytes, share: float, rng: random.Random) -> tuple[bytes, list[int]]:
    """The body without a random share of its (action, source) pairs, and the positions left out.

    At least one pair is kept so the forwarded request stays a valid ``_bulk``.
    """
    lines = [ln for ln in body.split(b"\n") if ln.strip()]
    pairs = [lines[i:i + 2] for i in range(0, len(lines), 2)]
    rejected = [i for i in range(len(pairs)) if rng.random() < share]
    if len(rejected) == len(pairs):
        rejected = rejected[1:]
    keep = [line for i, pair in enumerate(pairs) if i not in set(rejected) for line in pair]
    return b"\n".join(keep) + b"\n", rejected


def _merge_rejections(resp_body: bytes, rejected: list[int]) -> bytes:
    data = json.loads(resp_body or b"{}")
    items = list(data.get("items") or [])
    for pos in sorted(rejected):
        items.insert(pos, {"index": {"status": 429, "error": dict(_REJECT_ERROR)}})
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


def _drop(conn: socket.socket) -> None:
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    conn.close()
