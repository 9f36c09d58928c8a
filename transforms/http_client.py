"""The one HTTP layer for feeds and article pages: bounded, polite, and honest about what went wrong.

urllib3 with ``preload_content=False`` and our own streamed decompression, so the size cap applies to
the decoded bytes (a gzip bomb stops at the cap, not in memory). Redirects are followed here, one hop at
a time, so each hop passes the scheme check and the per-host politeness gate.

A feed decides where its redirects go, so every hop is held to a policy before any connection is made:
http(s) only, and the target host is resolved and refused when any of its addresses is private,
link-local, multicast, reserved or otherwise not globally routable (a redirect to loopback is allowed
only when the request started on loopback: the project's own tests and demo). The connection then goes
to the very address that was checked, so a second DNS answer cannot move it elsewhere.

Politeness is per process: a ``HostGate`` serialises requests to one host and keeps a minimum gap
between them, and remembers a host's ``Retry-After``. Parallel workers in other processes each keep
their own gate.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
import zlib
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
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

log = logging.getLogger(__name__)

def _product_version() -> str:
    try:
        from importlib.metadata import version

        return version("wirenews")
    except Exception:  # noqa: BLE001 - running from a source tree
        return "0.1.0"


PRODUCT_USER_AGENT = f"wirenews/{_product_version()} (news feed reader)"
DEFAULT_MAX_BYTES = 10_000_000
MAX_REDIRECTS = 5
PERMANENT_REDIRECTS = (301, 308)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
Resolver = Callable[..., list]
REDIRECTS = (301, 302, 303, 307, 308)
_CHUNK = 64 * 1024


class FetchError(Exception):
    """A failed fetch with a named kind (dns, connect, timeout, tls, http_status, too_large, ...)."""

    def __init__(self, kind: str, message: str, *, http_status: int | None = None,
                 retry_after: float | None = None, url: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.http_status = http_status
        self.retry_after = retry_after
        self.url = url


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


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class HostGate:
    """One request at a time per host, a minimum gap between them, and a host-wide ``Retry-After``.

    Shared by every client of the process (``HostGate.shared()``); waits are bounded by ``max_wait``:
    a host that asks for a longer pause fails fast with kind ``host_backoff`` instead of blocking a worker.
    """

    _shared: HostGate | None = None
    _shared_lock = threading.Lock()

    def __init__(self, min_gap: float = 0.5, max_wait: float = 30.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.min_gap = min_gap
        self.max_wait = max_wait
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._host_locks: dict[str, threading.Lock] = {}
        self._last: dict[str, float] = {}
        self._not_before: dict[str, float] = {}
        self._waited = threading.local()

    @classmethod
    def shared(cls) -> HostGate:
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = HostGate()
            return cls._shared

    def _host_lock(self, host: str) -> threading.Lock:
        with self._lock:
            return self._host_locks.setdefault(host, threading.Lock())

    def waited(self) -> float:
        """Seconds the calling thread has slept at this gate so far (politeness and ``Retry-After``).

        Per thread, so a poll can tell its own wait from that of polls running beside it.
        """
        return getattr(self._waited, "seconds", 0.0)

    def defer(self, host: str, seconds: float) -> None:
        """No request to ``host`` for ``seconds`` (a 429/503 ``Retry-After``)."""
        with self._lock:
            until = self._clock() + seconds
            self._not_before[host] = max(self._not_before.get(host, 0.0), until)

    @contextmanager
    def slot(self, host: str, *, min_gap: float | None = None):
        gap = self.min_gap if min_gap is None else min_gap
        lock = self._host_lock(host)
        if not lock.acquire(timeout=self.max_wait + 1.0):
            raise FetchError("host_backoff", f"{host}: another request has held the host for too long")
        try:
            now = self._clock()
            ready = max(self._last.get(host, -1e18) + gap, self._not_before.get(host, 0.0))
            wait = ready - now
            if wait > self.max_wait:
                raise FetchError("host_backoff", f"{host}: asked to wait {wait:.0f}s more",
                                 retry_after=wait)
            if wait > 0:
                self._sleep(wait)
                self._waited.seconds = self.waited() + wait
            try:
                yield
            finally:
                self._last[host] = self._clock()  # the gap runs from the end of this request
        finally:
            lock.release()


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
                 resolve: Resolver = socket.getaddrinfo) -> None:
        self.user_agent = user_agent or PRODUCT_USER_AGENT
        self.resolve = resolve
        self.max_bytes = max_bytes
        self.total_timeout = timeout
        self.connect_timeout = min(connect_timeout, timeout)
        self.read_timeout = min(read_timeout or timeout, timeout)
        self.gate = gate or HostGate.shared()
        self.min_gap = min_gap
        # TLS verified: urllib3 2 requires certificates and checks host names by default.
        self.pool = urllib3.PoolManager(num_pools=50, maxsize=pool_maxsize, retries=False,
                                        cert_reqs="CERT_REQUIRED")

    def close(self) -> None:
        self.pool.clear()

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
            accept: str | None = None, max_bytes: int | None = None,
            linked_from: str | None = None) -> HttpResponse:
        """Fetch ``url``; 200 and 304 return, everything else raises ``FetchError`` with a kind.

        ``linked_from``: the URL of the document that named ``url`` (a feed naming its article pages).
        Such a URL is the feed's word, not the operator's, so its first hop is held to the redirect
        policy too, with loopback allowed only when ``linked_from`` is on loopback.
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
        with self.gate.slot(host, min_gap=self.min_gap):
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
                if not 200 <= resp.status < 300:
                    return resp.status, resp_headers, b""
                declared = resp_headers.get("content-length", "")
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


def forbidden_reason(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, *, allow_loopback: bool) -> str | None:
    """Why a redirect may not lead to ``ip`` (None: it may). IPv4 inside IPv6 is judged as the IPv4."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return forbidden_reason(embedded, allow_loopback=allow_loopback)
    if ip.is_loopback:
        return None if allow_loopback else "loopback"
    for name in ("unspecified", "multicast", "link_local", "private", "reserved"):
        if getattr(ip, f"is_{name}"):
            return name.replace("_", "-")
    if not ip.is_global:
        return "non-global"
    return None


def resolve_addresses(host: str, port: int, resolve: Resolver = socket.getaddrinfo
                      ) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every address ``host`` stands for (a literal address is itself, with no lookup)."""
    try:
        return [ipaddress.ip_address(host.strip("[]").split("%")[0])]
    except ValueError:
        pass
    try:
        infos = resolve(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as e:
        raise FetchError("dns", f"cannot resolve {host}: {e}") from e
    addrs = []
    for info in infos:
        addr = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if addr not in addrs:
            addrs.append(addr)
    if not addrs:
        raise FetchError("dns", f"cannot resolve {host}: no address")
    return addrs


def _is_loopback_origin(url: str, resolve: Resolver) -> bool:
    parts = urlsplit(url)
    try:
        addrs = resolve_addresses(parts.hostname or "", parts.port or 80, resolve)
    except FetchError:
        return False
    return all(a.is_loopback or (getattr(a, "ipv4_mapped", None) or a).is_loopback for a in addrs)


def check_redirect(target: str, *, origin: str, resolve: Resolver = socket.getaddrinfo) -> str:
    """The address to connect to for a redirect ``target``, or FetchError ``redirect_blocked``.

    Runs before any connection to the target: the host is resolved here and every address it has must be
    allowed (one private answer among public ones is enough to refuse). Loopback is allowed only when
    ``origin``, the URL the request started from, is itself on loopback.
    """
    parts = urlsplit(target)
    host = parts.hostname
    if not host:
        raise FetchError("redirect_blocked", f"refusing a redirect without a host: {target!r}", url=target)
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError as e:
        raise FetchError("bad_url", f"bad port in redirect target {target!r}", url=target) from e
    try:
        addrs = resolve_addresses(host, port, resolve)
    except FetchError as e:
        e.url = target
        raise
    allow_loopback = _is_loopback_origin(origin, resolve)
    for addr in addrs:
        reason = forbidden_reason(addr, allow_loopback=allow_loopback)
        if reason:
            raise FetchError("redirect_blocked", f"refusing a redirect to {target}: {host} is {addr}, a {reason} "
                             "address", url=target)
    return str(addrs[0])


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
