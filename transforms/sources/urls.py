"""Canonical article URLs: one spelling per article, so re-runs and other feeds map to the same document.

w3lib's ``canonicalize_url`` (the Scrapy project's) does the careful part: percent-escapes normalised,
IDNA hosts, dot segments resolved, query sorted, fragment dropped. Around it we resolve against the
base, drop tracking parameters, lowercase the host and remove a default port.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Parameters that identify a click or a campaign, never the article. Deliberately a short, exact list:
# a broad pattern would also eat real identifiers such as ``id`` or ``source`` on some sites.
TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "hsa_", "itm_", "_hs")
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
    "igshid", "igsh", "mc_cid", "mc_eid", "_ga", "_gl", "mkt_tok", "oly_anon_id", "oly_enc_id",
    "vero_id", "vero_conv", "wt_mc", "wt.mc_id", "ncid", "cmpid", "sr_share", "at_medium", "at_campaign",
    "ocid", "s_cid", "spm", "__twitter_impression", "emc", "partner", "smid", "smtyp",
})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_WS = re.compile(r"\s+")


def is_tracking_param(name: str) -> bool:
    low = name.lower()
    return low in TRACKING_PARAMS or low.startswith(TRACKING_PREFIXES)


def strip_tracking(url: str) -> str:
    """The URL without tracking parameters and fragment; everything else kept as written."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not is_tracking_param(k)]
    query = urlencode(kept) if len(kept) != len(pairs) else parts.query
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def canonical_url(url: str | None, base: str | None = None) -> str:
    """Resolve ``url`` against ``base`` and normalise it; "" when there is no usable http(s) URL."""
    if not url:
        return ""
    url = _WS.sub("", url)  # feeds wrap long links over several lines
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return ""
    host = parts.hostname.rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    # Rebuilt from host and port alone: credentials never belong in a canonical URL.
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    cleaned = strip_tracking(urlunsplit((scheme, netloc, parts.path or "/", parts.query, "")))
    try:
        return canonicalize_url(cleaned, keep_fragments=False)
    except (ValueError, UnicodeError):
        return cleaned


def host_of(url: str | None) -> str:
    """The lowercased host without a leading ``www.``; "" for no URL."""
    if not url:
        return ""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host[4:] if host.startswith("www.") else host
