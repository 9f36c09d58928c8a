"""The one HTTP layer for feeds and article pages: bounded, polite, and honest about what went wrong.

urllib3 with ``preload_content=False`` and our own streamed decompression, so the size cap applies to
the decoded bytes (a gzip bomb stops at the cap, not in memory). Redirects are followed here, one hop at
a time, so each hop passes the scheme check and the per-host politeness gate.

Every redirect hop is held to the policy of ``addresses.check_redirect`` before any connection is
made, and the connection goes to the very address that was checked.

Politeness (one request at a time per host, a gap after each, ``Retry-After``) is ``politeness.HostGate``;
the gap after each answer, per-host limits and robots.txt (``robots.RobotsCache``) follow the client's
``politeness.FetchPolicy``. A URL robots.txt disallows raises ``FetchError`` of kind ``robots``.

Connections are kept alive and reused: one urllib3 pool per host, so a host's feeds polled one after
the other share one connection.
"""

from __future__ import annotations

import logging
import socket
import time
import zlib
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    DecodeError,
    HTTPError,
    LocationParseError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from transforms.resources import product_version
from transforms.sources.addresses import Resolver, check_redirect
from transforms.sources.errors import FetchError
from transforms.sources.politeness import FetchPolicy, HostGate, parse_retry_after
from transforms.sources.robots import ROBOTS_MAX_BYTES, RobotsCache

log = logging.getLogger(__name__)

PRODUCT_USER_AGENT = f"wirenews/{product_version()} (news feed reader)"
DEFAULT_MAX_BYTES = 10_000_000
MAX_REDIRECTS = 5
PERMANENT_REDIRECTS = (301, 308)
REDIRECTS = (301, 302, 303, 307, 308)
_CHUNK = 64 * 1024
_DRAIN_MAX = 64 * 1024  # an error or redirect body up to this size is read so its connection can be reused


@dataclass
class HttpResponse:
    url: str  # the final URL, after redirects
    status: int  # 200 or 304
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""
    redirects: list[tuple[int, str]] = field(default_factory=list)  # (status, target) per hop
    elapsed: float = 0.0

    @property
    def permanent_url(self) -> str | None:
        """The final URL when every hop was permanent (301/308), else None."""
        if self.redirects and all(s in PERMANENT_REDIRECTS for s, _ in self.redirects):
            return self.url
        return None


class _Decoder:
    """Streamed Content-Encoding decoding with a cap on the decoded size."""

    def __init__(self, encoding: str, max_bytes: int) -> None:
        enc = encoding.strip().lower()
        self.max_bytes = max_bytes
        self.parts: list[bytes] = []
        self.size = 0
        if enc in ("", "identity"):
            self._d = None
        elif enc in ("gzip", "x-gzip"):
            self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif enc == "deflate":
            self._d = zlib.decompressobj()
            self._deflate_first = True
        else:
            raise FetchError("decode", f"unsupported Content-Encoding {encoding!r}")
        self._enc = enc
        self._pending = b""
        self._member_out = 0  # bytes the current gzip member has given so far
        self._trailing = False  # junk after the last gzip member: the rest is ignored

    def _add(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.max_bytes:
            raise FetchError("too_large", f"body exceeds the cap of {self.max_bytes} bytes (decoded)")
        self.parts.append(data)

    def feed(self, chunk: bytes) -> None:
        if self._d is None:
            self._add(chunk)
            return
        if self._enc == "deflate" and getattr(self, "_deflate_first", False):
            self._deflate_first = False
            try:  # servers send zlib-wrapped or raw deflate; try the standard one first
                probe = zlib.decompressobj()
                probe.decompress(chunk[:64])
            except zlib.error:
                self._d = zlib.decompressobj(-zlib.MAX_WBITS)
        data = chunk
        while data and not self._trailing:
            if self._d.eof:
                if self._enc not in ("gzip", "x-gzip"):
                    break  # bytes after a deflate stream: ignored
                # Another gzip member (RFC 1952 allows several); the cap counts all of them together.
                self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                self._member_out = 0
            room = self.max_bytes - self.size + 1
            try:
                out = self._d.decompress(data, room)
            except zlib.error as e:
                if self._member_out == 0 and self.size > 0 and self._enc in ("gzip", "x-gzip"):
                    self._trailing = True  # padding or junk after the last member, as gzip(1) ignores it
                    break
                raise FetchError("decode", f"bad {self._enc} data: {e}") from e
            self._member_out += len(out)
            self._add(out)
            data = self._d.unconsumed_tail or (self._d.unused_data if self._d.eof else b"")

    def finish(self) -> bytes:
        if self._d is not None and not self._trailing:
            try:
                self._add(self._d.flush())
            except zlib.error as e:
                raise FetchError("decode", f"bad {self._enc} data: {e}") from e
            if not self._d.eof:
                raise FetchError("decode", f"truncated {self._enc} data")
        return b"".join(self.parts)


class HttpClient:
    """GET with conditional validators, timeouts, a streamed size cap, redirects and politeness."""

    def __init__(self, *, user_agent: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
                 timeout: float = 30.0, connect_timeout: float = 10.0, read_timeout: float | None = None,
                 gate: HostGate | None = None, min_gap: float | None = None, pool_maxsize: int = 4,
                 resolve: Resolver = socket.getaddrinfo, policy: FetchPolicy | None = None) -> None:
        """``min_gap`` is shorthand for ``FetchPolicy(min_gap=...)``; None leaves the gate's default."""
        self.user_agent = user_agent or PRODUCT_USER_AGENT
        self.policy = policy or FetchPolicy(min_gap=min_gap)
        self.robots = RobotsCache(self._read_robots, self.user_agent) if self.policy.robots else None
        self._crawl_delay: dict[str, float] = {}  # host -> its robots.txt Crawl-delay, capped
        self.resolve = resolve
        self.max_bytes = max_bytes
        self.total_timeout = timeout
        self.connect_timeout = min(connect_timeout, timeout)
        self.read_timeout = min(read_timeout or timeout, timeout)
        self.gate = gate or HostGate.shared()
        # TLS verified: urllib3 2 requires certificates and checks host names by default.
        self.pool = urllib3.PoolManager(num_pools=50, maxsize=pool_maxsize, retries=False,
                                        cert_reqs="CERT_REQUIRED")

    def close(self) -> None:
        self.pool.clear()

    def _read_robots(self, url: str) -> str | None:
        """An origin's robots.txt; None (no rules) unless it answers 200."""
        try:
            resp = self.get(url, accept="text/plain", max_bytes=ROBOTS_MAX_BYTES, robots=False)
        except FetchError as e:
            if e.kind == "http_status":
                return None  # 404, 410, 5xx...: no rules
            raise
        return resp.body.decode("utf-8", errors="replace") if resp.status == 200 else None

    def _check_robots(self, url: str) -> None:
        """Raise ``FetchError("robots")`` for a URL robots.txt disallows; note the host's Crawl-delay."""
        if self.robots is None:
            return
        answer = self.robots.check(url)
        host = (urlsplit(url).hostname or "").lower()
        if answer.crawl_delay:
            delay = min(answer.crawl_delay, self.policy.max_crawl_delay)
            self._crawl_delay[host] = max(self._crawl_delay.get(host, 0.0), delay)
        if not answer.allowed:
            raise FetchError("robots", f"{url}: disallowed by robots.txt for {self.user_agent!r}", url=url)

    def gaps(self, host: str) -> tuple[float, float]:
        """(after a page, after an answer without a body) for ``host``: the policy's, raised to its Crawl-delay."""
        page, cheap = self.policy.gaps(host, self.gate.min_gap)
        delay = self._crawl_delay.get(host, 0.0)
        return max(page, delay), max(cheap, delay)

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
            accept: str | None = None, max_bytes: int | None = None,
            linked_from: str | None = None, robots: bool = True) -> HttpResponse:
        """Fetch ``url``; 200 and 304 return, everything else raises ``FetchError`` with a kind.

        ``linked_from``: the URL of the document that named ``url`` (a feed naming its article pages).
        Such a URL is the feed's word, not the operator's, so its first hop is held to the redirect
        policy too, with loopback allowed only when ``linked_from`` is on loopback. Every hop is held to its
        origin's robots.txt (``robots`` False: not, for robots.txt itself).
        """
        started = time.monotonic()
        deadline = started + self.total_timeout
        cap = max_bytes or self.max_bytes
        headers = {"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"}
        if accept:
            headers["Accept"] = accept
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        redirects: list[tuple[int, str]] = []
        current = url
        pinned: str | None = None
        for _ in range(MAX_REDIRECTS + 1):
            _check_scheme(current, redirected=bool(redirects) or linked_from is not None)
            if redirects or linked_from is not None:
                pinned = check_redirect(current, origin=linked_from or url, resolve=self.resolve)
            if robots:
                self._check_robots(current)
            status, resp_headers, body = self._one(current, headers, cap, deadline, pinned=pinned)
            if status in REDIRECTS and "location" in resp_headers:
                target = urljoin(current, resp_headers["location"].strip())
                redirects.append((status, target))
                current = target
                continue
            elapsed = time.monotonic() - started
            if status == 304 or (200 <= status < 300 and status != 204):
                return HttpResponse(url=current, status=304 if status == 304 else 200, headers=resp_headers,
                                    body=body, redirects=redirects, elapsed=elapsed)
            retry_after = parse_retry_after(resp_headers.get("retry-after")) if status in (429, 503) else None
            raise FetchError("http_status", f"HTTP {status} from {current}", http_status=status,
                             retry_after=retry_after, url=current)
        raise FetchError("redirect", f"more than {MAX_REDIRECTS} redirects from {url}", url=current)

    def _one(self, url: str, headers: dict[str, str], cap: int, deadline: float, *,
             pinned: str | None = None) -> tuple[int, dict[str, str], bytes]:
        host = (urlsplit(url).hostname or "").lower()
        page_gap, cheap_gap = self.gaps(host)
        with self.gate.slot(host, min_gap=page_gap, concurrency=self.policy.concurrency(host)) as ticket:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FetchError("timeout", f"total timeout of {self.total_timeout}s passed", url=url)
            timeout = urllib3.Timeout(connect=min(self.connect_timeout, remaining),
                                      read=min(self.read_timeout, remaining))
            resp = None
            complete = False
            try:
                resp = self._open(url, headers, timeout, pinned)
                resp_headers = {k.lower(): v for k, v in resp.headers.items()}
                if resp.status in (429, 503):
                    wait = parse_retry_after(resp_headers.get("retry-after"))
                    if wait:
                        self.gate.defer(host, wait)
                if resp.status == 304 or resp.status in REDIRECTS:
                    ticket.gap = cheap_gap  # no body: it cost the server next to nothing
                declared = resp_headers.get("content-length", "")
                if not 200 <= resp.status < 300:
                    if resp.status != 304 and declared.isdigit() and int(declared) <= _DRAIN_MAX:
                        complete = _drain(resp, int(declared))  # small: read, and keep the connection
                    return resp.status, resp_headers, b""
                if declared.isdigit() and int(declared) > cap and not resp_headers.get("content-encoding"):
                    raise FetchError("too_large", f"Content-Length {declared} exceeds the cap of {cap} bytes",
                                     url=url)
                decoder = _Decoder(resp_headers.get("content-encoding", ""), cap)
                raw = 0
                while True:
                    if time.monotonic() > deadline:
                        raise FetchError("timeout", f"total timeout of {self.total_timeout}s passed while "
                                         "reading", url=url)
                    chunk = resp.read1(_CHUNK, decode_content=False)  # what one recv gives: a trickle cannot hide
                    if not chunk:
                        break
                    raw += len(chunk)
                    if raw > cap:
                        raise FetchError("too_large", f"body exceeds the cap of {cap} bytes", url=url)
                    decoder.feed(chunk)
                body = decoder.finish()
                complete = True
                if not raw:
                    ticket.gap = cheap_gap
                return resp.status, resp_headers, body
            except FetchError as e:
                e.url = e.url or url
                raise
            # Order matters: urllib3's NewConnectionError is also a ConnectTimeoutError.
            except NameResolutionError as e:
                raise FetchError("dns", f"{url}: cannot resolve {host}", url=url) from e
            except NewConnectionError as e:
                raise FetchError("connect", f"{url}: {_short(e)}", url=url) from e
            except (ReadTimeoutError, ConnectTimeoutError, TimeoutError) as e:
                raise FetchError("timeout", f"{url}: {_short(e)}", url=url) from e
            except SSLError as e:
                raise FetchError("tls", f"{url}: {_short(e)}", url=url) from e
            except LocationParseError as e:
                raise FetchError("bad_url", f"{url}: {_short(e)}", url=url) from e
            except (ProtocolError, DecodeError) as e:
                if _is_timeout(e):
                    raise FetchError("timeout", f"{url}: {_short(e)}", url=url) from e
                raise FetchError("connect", f"{url}: connection broken: {_short(e)}", url=url) from e
            except HTTPError as e:
                kind = "timeout" if _is_timeout(e) else "connect"
                raise FetchError(kind, f"{url}: {_short(e)}", url=url) from e
            except OSError as e:
                raise FetchError("connect", f"{url}: {_short(e)}", url=url) from e
            finally:
                if resp is not None:
                    # A body left unread (an error status, a cap hit, a timeout) closes the connection
                    # rather than draining what may be a bomb or a trickle.
                    if complete or resp.status == 304:
                        resp.release_conn()
                    else:
                        resp.close()


    def _open(self, url: str, headers: dict[str, str], timeout: urllib3.Timeout,
              pinned: str | None) -> urllib3.BaseHTTPResponse:
        """The GET itself; with ``pinned``, the connection goes to that checked address, named as the host."""
        if pinned is None:
            return self.pool.request("GET", url, headers=headers, preload_content=False, redirect=False,
                                     decode_content=False, timeout=timeout)
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
        pool_kwargs = {"server_hostname": host, "assert_hostname": host} if scheme == "https" else None
        conn = self.pool.connection_from_host(pinned, port=port, scheme=scheme, pool_kwargs=pool_kwargs)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        return conn.urlopen("GET", path, headers={**headers, "Host": parts.netloc.rpartition("@")[2]},
                            preload_content=False, redirect=False, decode_content=False, timeout=timeout,
                            retries=False, assert_same_host=False)


def _drain(resp: urllib3.BaseHTTPResponse, size: int) -> bool:
    """Read a small unwanted body to its end; False (the connection is closed instead) if that fails."""
    try:
        resp.read(size, decode_content=False)
    except (HTTPError, OSError):
        return False
    return True


def _check_scheme(url: str, *, redirected: bool) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        kind = "redirect" if redirected else "bad_url"
        raise FetchError(kind, f"refusing a non-http(s) URL {url!r}", url=url)


def _is_timeout(e: BaseException) -> bool:
    seen = 0
    cur: BaseException | None = e
    while cur is not None and seen < 5:
        if isinstance(cur, (TimeoutError, ReadTimeoutError, ConnectTimeoutError)):
            return True
        cur = cur.__cause__ or cur.__context__ or (cur.args[1] if len(cur.args) > 1 and isinstance(
            cur.args[1], BaseException) else None)
        seen += 1
    return False


def _short(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    return text if len(text) <= 300 else text[:300] + "..."
