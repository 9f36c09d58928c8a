"""The redirect policy as a pure function: which addresses a feed may redirect to, decided before connecting.

Name resolution is injected, so hosts that would resolve to public or private addresses are tried without
any lookup or packet leaving the machine.
"""

from __future__ import annotations

import ipaddress
import socket

import pytest

from transforms.sources.addresses import check_redirect, forbidden_reason
from transforms.sources.errors import FetchError

pytestmark = [pytest.mark.reliability]


def resolver(table: dict[str, list[str]]):
    """A getaddrinfo that answers from ``table`` (unknown names fail as DNS does)."""

    def resolve(host, port, type=0):  # noqa: A002 - getaddrinfo's own keyword
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in table[host]]

    return resolve


@pytest.mark.parametrize("address, reason", [
    ("10.0.0.1", "private"), ("172.16.5.4", "private"), ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"), ("100.64.0.1", "non-global"), ("0.0.0.0", "unspecified"),
    ("224.0.0.251", "multicast"), ("239.255.255.250", "multicast"), ("255.255.255.255", "private"),
    ("198.18.0.1", "private"), ("192.0.2.10", "private"), ("240.0.0.1", "private"),
    ("fc00::1", "private"), ("fd12:3456::1", "private"), ("fe80::1", "link-local"), ("ff02::1", "multicast"),
    ("::", "unspecified"), ("::ffff:10.0.0.1", "private"), ("2002:a00:1::1", "private"),
    ("64:ff9b::a9fe:a9fe", "link-local"), ("2001:db8::1", "private"),
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
])
def test_addresses_a_redirect_may_not_reach(address, reason):
    assert forbidden_reason(ipaddress.ip_address(address), allow_loopback=False) == reason


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::6810:85e5", "1.1.1.1"])
def test_public_addresses_are_allowed(address):
    assert forbidden_reason(ipaddress.ip_address(address), allow_loopback=False) is None


def test_loopback_only_from_a_loopback_start():
    resolve = resolver({"feeds.example.org": ["93.184.216.34"], "localhost": ["127.0.0.1", "::1"]})
    assert check_redirect("http://localhost:8080/x", origin="http://127.0.0.1:8000/feed", resolve=resolve) == (
        "127.0.0.1")
    with pytest.raises(FetchError) as info:
        check_redirect("http://localhost:8080/x", origin="http://feeds.example.org/feed", resolve=resolve)
    assert info.value.kind == "redirect_blocked" and "loopback" in info.value.message
    with pytest.raises(FetchError):
        check_redirect("http://127.0.0.1/x", origin="https://feeds.example.org/feed", resolve=resolve)


def test_one_private_answer_among_public_ones_is_enough_to_refuse():
    resolve = resolver({"cdn.example.net": ["93.184.216.34", "10.1.2.3"], "feeds.example.org": ["93.184.216.35"]})
    with pytest.raises(FetchError) as info:
        check_redirect("https://cdn.example.net/feed", origin="https://feeds.example.org/", resolve=resolve)
    assert info.value.kind == "redirect_blocked" and "10.1.2.3" in info.value.message


def test_the_checked_address_is_the_one_to_connect_to():
    resolve = resolver({"cdn.example.net": ["93.184.216.34"], "feeds.example.org": ["93.184.216.35"]})
    assert check_redirect("https://cdn.example.net/feed", origin="https://feeds.example.org/",
                          resolve=resolve) == "93.184.216.34"


def test_an_unresolvable_target_is_a_dns_error_and_a_literal_needs_no_lookup():
    resolve = resolver({"feeds.example.org": ["93.184.216.35"]})
    with pytest.raises(FetchError) as info:
        check_redirect("http://nowhere.invalid/", origin="http://feeds.example.org/", resolve=resolve)
    assert info.value.kind == "dns"
    with pytest.raises(FetchError) as info:  # a literal address is judged as written, never looked up
        check_redirect("http://[fd00::1]:8080/", origin="http://feeds.example.org/", resolve=resolver({}))
    assert info.value.kind == "redirect_blocked"
