"""Elasticsearch as every stage that keeps something there sees it: settings, the client, transient errors.

The feed state (sources) and the article index (sink) live in the same cluster, so both stages share
this helper rather than one reaching into the other. Credentials come from the environment (the
program's config reads them into ``EsSettings``) and never appear in a log line or an error message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import ApiError, Elasticsearch

from transforms.backoff import RETRYABLE_STATUS

log = logging.getLogger(__name__)

DEFAULT_LOCAL_HOST = "http://127.0.0.1:9200"
DEFAULT_INDEX = "wirenews-articles"


@dataclass
class EsSettings:
    """How to reach the cluster; secrets are read from the environment, never the file."""

    hosts: list[str] = field(default_factory=lambda: [DEFAULT_LOCAL_HOST])
    index: str = DEFAULT_INDEX  # the alias that is read and written
    local: bool = True  # True when hosts were absent: the project-managed node
    api_key: str | None = None
    username: str | None = None
    password: str | None = None
    ca_certs: str | None = None
    verify_certs: bool = True
    request_timeout: float = 30.0
    bulk_max_docs: int = 500
    bulk_max_bytes: int = 5 * 1024 * 1024
    max_retries: int = 6

    @property
    def state_index(self) -> str:
        return f"{self.index}-feed-state"

    @property
    def deadletter_index(self) -> str:
        return f"{self.index}-deadletter"

    def __repr__(self) -> str:  # never print a secret
        return f"EsSettings(hosts={self.hosts!r}, index={self.index!r}, auth={self.auth_kind})"

    @property
    def auth_kind(self) -> str:
        if self.api_key:
            return "api_key"
        if self.username:
            return "basic"
        return "none"


def make_client(settings: EsSettings, **overrides: object) -> Elasticsearch:
    """A client with the settings' auth and TLS; the client's own retries are off (we retry per item)."""
    kwargs: dict[str, object] = {
        "hosts": settings.hosts,
        "request_timeout": settings.request_timeout,
        "retry_on_timeout": False,
        "max_retries": 0,
    }
    if settings.api_key:
        kwargs["api_key"] = settings.api_key
    elif settings.username:
        kwargs["basic_auth"] = (settings.username, settings.password or "")
    if any(h.startswith("https") for h in settings.hosts):
        kwargs["verify_certs"] = settings.verify_certs
        if settings.ca_certs:
            kwargs["ca_certs"] = settings.ca_certs
        if not settings.verify_certs:
            kwargs["ssl_show_warn"] = False
            log.warning("TLS certificate verification is OFF for %s (elasticsearch.verify_certs: false)",
                        ", ".join(settings.hosts))
    kwargs.update(overrides)
    return Elasticsearch(**kwargs)  # type: ignore[arg-type]


def is_transient(error: BaseException) -> bool:
    """A failure worth waiting out: the connection, a timeout, or a status the cluster sends when busy."""
    if isinstance(error, (TransportConnectionError, ConnectionTimeout)):
        return True
    return isinstance(error, ApiError) and error.meta.status in RETRYABLE_STATUS


