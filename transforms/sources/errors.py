"""The one error a fetch raises, by kind, so callers count and report failures by name."""

from __future__ import annotations


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
