"""Where a redirect may lead: the address policy checked before any connection is made.

A feed decides where its redirects go, so every hop is held to a policy: http(s) only, and the target
host is resolved and refused when any of its addresses is private, link-local, multicast, reserved or
otherwise not globally routable (a redirect to loopback is allowed only when the request started on
loopback: the project's own tests and demo). The caller then connects to the very address that was
checked, so a second DNS answer cannot move it elsewhere.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from transforms.sources.errors import FetchError

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
Resolver = Callable[..., list]


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
