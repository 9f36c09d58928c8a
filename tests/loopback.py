"""A loopback HTTP server for tests and the demo: serves fixture files, plus scripted responses.

Only ever binds a loopback address: 127.0.0.1 unless told another in 127.0.0.0/8 (Linux routes the
whole block to ``lo``, so servers on 127.0.0.2, 127.0.0.3, ... are distinct hosts with no setup, which is
how the benchmarks give each agency a host of its own). A test registers a route to script a status,
headers, body or delay; everything else is served from the root directory with ETag and Last-Modified
validators, so conditional GETs can be exercised.

``requests`` records every request but those for ``/robots.txt``, which every client makes once per
origin: those go to ``robots_requests``, so a test counts the feed and page requests it made. A
``robots.txt`` in the root (or a route) is served like any file; without one the answer is a 404.
``peers`` records the client address (host, port) of each request, to tell a reused connection from a
new one.
"""

from __future__ import annotations

import hashlib
import ipaddress
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CONTENT_TYPES = {
    ".xml": "application/xml", ".rss": "application/rss+xml", ".atom": "application/atom+xml",
    ".rdf": "application/rdf+xml", ".json": "application/feed+json", ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


def loopback_host(host: str) -> str:
    """``host`` if it is an IPv4 address in 127.0.0.0/8, else ValueError: never listen beyond this machine."""
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"not a loopback address: {host!r} (only 127.0.0.0/8)") from None
    if addr not in LOOPBACK:
        raise ValueError(f"not a loopback address: {host!r} (only 127.0.0.0/8)")
    return str(addr)


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    handler: Callable[[BaseHTTPRequestHandler], None] | None = None


class _QuietServer(ThreadingHTTPServer):
    """A client that goes away mid-answer (a timeout, a size cap, a killed run) is part of what the tests do:
    socketserver would print its ConnectionResetError or BrokenPipeError as a traceback; anything else it
    still prints."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class LoopbackServer:
    def __init__(self, root: Path | str | None = None, port: int = 0, host: str = "127.0.0.1") -> None:
        self.host = loopback_host(host)
        self.root = Path(root) if root else None
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.robots_requests: list[tuple[str, str, dict[str, str]]] = []
        self.peers: list[tuple[str, int]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as separate writes

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                server._handle(self)

            def do_HEAD(self) -> None:  # noqa: N802
                server._handle(self)

        self.httpd = _QuietServer((self.host, port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def url(self, path: str = "") -> str:
        return f"http://{self.host}:{self.port}/{path.lstrip('/')}"

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        path = req.path.split("?", 1)[0]
        seen = self.robots_requests if path == "/robots.txt" else self.requests
        seen.append((req.command, req.path, dict(req.headers.items())))
        self.peers.append(req.client_address[:2])
        route = self.routes.get(path)
        if route is not None:
            if route.delay:
                time.sleep(route.delay)
            if route.handler is not None:
                route.handler(req)
                return
            self._send(req, route.status, route.body, route.headers)
            return
        self._serve_file(req, path)

    def _serve_file(self, req: BaseHTTPRequestHandler, path: str) -> None:
        if self.root is None:
            self._send(req, 404, b"not found", {"Content-Type": "text/plain"})
            return
        target = (self.root / path.lstrip("/")).resolve()
        if self.root.resolve() not in target.parents or not target.is_file():
            self._send(req, 404, b"not found", {"Content-Type": "text/plain"})
            return
        body = target.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        last_modified = formatdate(target.stat().st_mtime, usegmt=True)
        if req.headers.get("If-None-Match") == etag:
            self._send(req, 304, b"", {"ETag": etag, "Last-Modified": last_modified})
            return
        ctype = CONTENT_TYPES.get(target.suffix, "application/octet-stream")
        self._send(req, 200, body, {"Content-Type": ctype, "ETag": etag, "Last-Modified": last_modified})

    @staticmethod
    def _send(req: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]) -> None:
        req.send_response(status)
        for k, v in headers.items():
            req.send_header(k, v)
        if not any(k.lower() == "content-length" for k in headers):
            req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        if req.command != "HEAD" and status not in (204, 304):
            req.wfile.write(body)


def main() -> None:
    """Serve a directory on loopback (127.0.0.1 unless --host) until interrupted (the demo's feed server)."""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("root")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--host", default="127.0.0.1", help="an address in 127.0.0.0/8")
    args = ap.parse_args()
    with LoopbackServer(args.root, args.port, args.host) as srv:
        print(f"serving {args.root} at {srv.url()}", flush=True)
        try:
            srv.thread.join()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
