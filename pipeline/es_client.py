"""One place that turns EsSettings into an Elasticsearch client."""

from __future__ import annotations

from elasticsearch import Elasticsearch

from pipeline.config import EsSettings


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
    kwargs.update(overrides)
    return Elasticsearch(**kwargs)  # type: ignore[arg-type]
