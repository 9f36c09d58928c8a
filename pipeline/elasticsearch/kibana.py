"""Kibana saved objects: the data view, saved searches, facet tables and the dashboard.

They ship as NDJSON in ``configs/kibana/wirenews.ndjson`` (the format of Kibana's
own export) and are loaded with the saved-objects import API. The data view's
title is the alias; for an alias other than the default, ``export_objects``
rewrites it, and only it, so the objects keep their ids and references.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import ssl
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from transforms.resources import config_path

log = logging.getLogger(__name__)

OBJECTS_PATH = config_path("kibana", "wirenews.ndjson")
DEFAULT_ALIAS = "wirenews-articles"
_KQL_FIELD = re.compile(r"([A-Za-z@_][\w.@]*)\s*:")


class KibanaError(RuntimeError):
    """Kibana refused the import or could not be reached; the message says which objects and why."""


def load_objects(path: Path = OBJECTS_PATH) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def export_objects(alias: str | None = None, path: Path = OBJECTS_PATH) -> str:
    """The NDJSON to import; with ``alias``, the data view points at that alias instead of the default."""
    objects = load_objects(path)
    if alias:
        for obj in objects:
            if obj["type"] == "index-pattern":
                obj["attributes"]["title"] = alias
    return "".join(json.dumps(o, ensure_ascii=False, separators=(",", ":")) + "\n" for o in objects)


def import_objects(kibana_url: str, *, api_key: str | None = None, username: str | None = None,
                   password: str | None = None, alias: str | None = None, space: str | None = None,
                   ca_certs: str | None = None, timeout: float = 30.0) -> dict[str, Any]:
    """POST the objects to ``/api/saved_objects/_import?overwrite=true``; returns Kibana's answer.

    Raises KibanaError when Kibana answers with an error or reports objects it did not import.
    """
    base = kibana_url.rstrip("/") + (f"/s/{space}" if space else "")
    url = f"{base}/api/saved_objects/_import?overwrite=true"
    boundary = f"wirenews-{uuid.uuid4().hex}"
    payload = export_objects(alias).encode("utf-8")
    body = (f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="wirenews.ndjson"\r\n'
            "Content-Type: application/ndjson\r\n\r\n").encode() + payload + f"\r\n--{boundary}--\r\n".encode()
    headers = {"kbn-xsrf": "true", "Content-Type": f"multipart/form-data; boundary={boundary}"}
    if api_key:
        headers["Authorization"] = f"ApiKey {api_key}"
    elif username:
        token = base64.b64encode(f"{username}:{password or ''}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    context = None
    if ca_certs:
        context = ssl.create_default_context(cafile=ca_certs)
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as resp:
            answer = json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        detail = e.read()[:500].decode("utf-8", "replace")
        raise KibanaError(f"Kibana at {kibana_url} answered HTTP {e.code} to the import: {detail}") from None
    except (urllib.error.URLError, OSError) as e:
        raise KibanaError(f"Kibana at {kibana_url} is unreachable: {getattr(e, 'reason', e)}") from None
    if not answer.get("success", False):
        errors = answer.get("errors") or []
        summary = "; ".join(f"{e.get('type')} {e.get('id')}: {e.get('error', {}).get('type')}" for e in errors[:10])
        raise KibanaError(f"Kibana imported {answer.get('successCount', 0)} objects and refused "
                          f"{len(errors)}: {summary}")
    log.info("Imported %d saved objects into Kibana at %s", answer.get("successCount", 0), kibana_url)
    return answer


def fields_used(objects: list[dict[str, Any]] | None = None) -> dict[str, set[str]]:
    """Every index field the objects name, with how: ``time``, ``column``, ``sort``, ``facet``, ``query``.

    Used by the tests to hold the objects to the live mapping.
    """
    used: dict[str, set[str]] = {}

    def add(name: str, role: str) -> None:
        used.setdefault(name, set()).add(role)

    for obj in objects if objects is not None else load_objects():
        attrs = obj["attributes"]
        if obj["type"] == "index-pattern" and attrs.get("timeFieldName"):
            add(attrs["timeFieldName"], "time")
        for col in attrs.get("columns") or []:
            add(col, "column")
        for entry in attrs.get("sort") or []:
            add(entry[0], "sort")
        if attrs.get("visState"):
            for agg in json.loads(attrs["visState"]).get("aggs", []):
                if agg.get("params", {}).get("field"):
                    add(agg["params"]["field"], "facet")
        source = json.loads((attrs.get("kibanaSavedObjectMeta") or {}).get("searchSourceJSON") or "{}")
        for name in _KQL_FIELD.findall((source.get("query") or {}).get("query") or ""):
            add(name, "query")
        for f in source.get("filter") or []:
            key = (f.get("meta") or {}).get("key")
            if key:
                add(key, "facet")
    return used
