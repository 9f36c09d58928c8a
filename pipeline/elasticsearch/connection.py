"""One place that turns EsSettings into an Elasticsearch client, and checks it before a run.

TLS is verified unless the config says otherwise; credentials come from the
environment (EsSettings) and never appear in a log line or an error message.
"""

from __future__ import annotations

import logging
from typing import Any

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout, TlsError, TransportError
from elasticsearch import ApiError, AuthenticationException, AuthorizationException, Elasticsearch
from elasticsearch import __versionstr__ as CLIENT_VERSION

from transforms.elastic import EsSettings, make_client

log = logging.getLogger(__name__)

# What the pipeline does on the article alias, its versioned indices and the auxiliary indices.
REQUIRED_INDEX_PRIVILEGES = ("read", "write", "create_index", "view_index_metadata", "manage")
REQUIRED_CLUSTER_PRIVILEGES = ("manage_index_templates",)


class ConnectionProblem(Exception):
    """Elasticsearch cannot be used as configured; the message says why and what to check."""


def check_connection(settings: EsSettings, client: Elasticsearch | None = None) -> None:
    """Raise ConnectionProblem unless the cluster answers, accepts the credentials and grants what we need."""
    own = client is None
    es = client or make_client(settings, request_timeout=min(settings.request_timeout, 10.0))
    where = ", ".join(settings.hosts)
    try:
        security_on = _authenticate(es, settings, where)
        if security_on:
            _check_privileges(es, settings, where)
        else:
            _call(es.cluster.health, settings, where, timeout="5s")
    finally:
        if own:
            es.close()
    log.info("Elasticsearch at %s is usable (auth: %s, security %s)", where, settings.auth_kind,
             "on" if security_on else "off")


def _authenticate(es: Elasticsearch, settings: EsSettings, where: str) -> bool:
    """True when security is enabled and the credentials are good; False when the cluster has no security."""
    try:
        _call(es.security.authenticate, settings, where)
        return True
    except _NoSecurity:
        return False


class _NoSecurity(Exception):
    pass


def _check_privileges(es: Elasticsearch, settings: EsSettings, where: str) -> None:
    names = [settings.index, f"{settings.index}-*"]
    resp = _call(es.security.has_privileges, settings, where, cluster=list(REQUIRED_CLUSTER_PRIVILEGES),
                 index=[{"names": names, "privileges": list(REQUIRED_INDEX_PRIVILEGES)}])
    missing: list[str] = []
    for priv, granted in (resp.get("cluster") or {}).items():
        if not granted:
            missing.append(f"cluster privilege {priv!r}")
    for index, privs in (resp.get("index") or {}).items():
        absent = sorted(p for p, granted in privs.items() if not granted)
        if absent:
            missing.append(f"index privileges {absent} on {index!r}")
    if missing:
        user = resp.get("username") or "the configured user"
        raise ConnectionProblem(
            f"Elasticsearch at {where}: {user} lacks " + "; ".join(missing)
            + ". Grant them in a role (see docs/elasticsearch-8.md, 'Privileges').")


def _call(fn: Any, settings: EsSettings, where: str, **kwargs: Any) -> Any:
    try:
        return fn(**kwargs)
    except TlsError as e:
        raise ConnectionProblem(
            f"Elasticsearch at {where}: TLS verification failed ({_short(e)}); set WIRENEWS_ES_CA_CERTS to the "
            "cluster's CA certificate") from None
    except (TransportConnectionError, ConnectionTimeout) as e:
        raise ConnectionProblem(f"Elasticsearch at {where} is unreachable: {_short(e)}") from None
    except AuthenticationException:
        if settings.auth_kind == "none":
            raise ConnectionProblem(
                f"Elasticsearch at {where} requires credentials: set WIRENEWS_ES_API_KEY, or "
                "WIRENEWS_ES_USERNAME and WIRENEWS_ES_PASSWORD") from None
        raise ConnectionProblem(
            f"Elasticsearch at {where} refused the credentials ({settings.auth_kind} from WIRENEWS_ES_*): "
            "bad, expired or revoked") from None
    except AuthorizationException as e:
        raise ConnectionProblem(f"Elasticsearch at {where}: missing privileges: {_reason(e)}") from None
    except ApiError as e:
        reason = _reason(e)
        if "Accept version" in reason or "compatible-with" in reason or _type(e) == "media_type_header_exception":
            raise ConnectionProblem(
                f"Elasticsearch at {where} does not accept requests from this client (elasticsearch-py "
                f"{CLIENT_VERSION}): {reason}. For an 8.x cluster install 'elasticsearch>=8.19,<9' "
                "(docs/elasticsearch-8.md)") from None
        if fn.__name__ == "authenticate" and e.meta.status in (400, 404, 405, 410, 500):
            raise _NoSecurity() from None
        raise ConnectionProblem(f"Elasticsearch at {where} answered HTTP {e.meta.status}: {reason}") from None
    except TransportError as e:
        raise ConnectionProblem(f"Elasticsearch at {where}: {_short(e)}") from None


def _type(e: ApiError) -> str:
    err = e.body.get("error") if isinstance(e.body, dict) else None
    return str(err.get("type", "")) if isinstance(err, dict) else ""


def _reason(e: ApiError) -> str:
    err = e.body.get("error") if isinstance(e.body, dict) else e.body
    if isinstance(err, dict):
        return str(err.get("reason") or err.get("type") or err)[:500]
    return str(err or e.message)[:500]


def _short(e: Exception) -> str:
    text = str(getattr(e, "message", "") or e or type(e).__name__)
    return text.splitlines()[0][:300]
