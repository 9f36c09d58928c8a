"""Index bootstrap and migration: a template, versioned indices, and one alias in front.

The pipeline and Kibana only ever name the alias. Behind it sits
``<alias>-v<n>``, created from the composable template in
``configs/index-template.json``. A mapping change is a new ``-v<n+1>``, a copy of
the documents and an atomic alias switch (docs/index-versions.md), so readers
never see a half-migrated index. Everything here may run again at any time.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from pathlib import Path
from typing import Any

from elasticsearch import ApiError, BadRequestError, Elasticsearch, NotFoundError, helpers

from transforms.elastic import EsSettings
from transforms.resources import config_path
from transforms.sources import FeedStateStore
from transforms.stories import StoryStore

log = logging.getLogger(__name__)

TEMPLATE_PATH = config_path("index-template.json")

# The dead-letter store: the rejected document is kept verbatim (``enabled: false``
# stores it without parsing, so a document the article mapping refused still fits).
DEADLETTER_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "@timestamp": {"type": "date"},
        "doc_id": {"type": "keyword"},
        "index": {"type": "keyword"},
        "feed": {"type": "keyword"},
        "attempts": {"type": "integer"},
        "error": {
            "properties": {
                "type": {"type": "keyword"},
                "reason": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 2048}}},
                "status": {"type": "integer"},
            }
        },
        "document": {"type": "object", "enabled": False},
    },
}

class BootstrapError(RuntimeError):
    """The cluster is in a state we will not touch automatically; the message says what to do."""


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def template_body(alias: str, template: dict[str, Any] | None = None) -> dict[str, Any]:
    """The composable template for ``alias``: matches ``<alias>-v*``, records the mapping version."""
    tpl = copy.deepcopy(template if template is not None else load_template())
    version = int(tpl["mapping_version"])
    body = tpl["template"]
    body["mappings"]["_meta"] = {"mapping_version": version, "alias": alias, "managed_by": "wirenews"}
    return {
        "index_patterns": [f"{alias}-v*"],
        "priority": int(tpl.get("priority", 200)),
        "version": version,
        "template": body,
        "_meta": {"description": f"wirenews articles behind alias {alias}", "managed_by": "wirenews"},
    }


def put_template(client: Elasticsearch, alias: str, template: dict[str, Any] | None = None) -> int:
    body = template_body(alias, template)
    client.indices.put_index_template(name=alias, **body)
    return int(body["version"])


def bootstrap(client: Elasticsearch, alias: str, template: dict[str, Any] | None = None) -> str:
    """Template, first versioned index and the write alias; returns the index written to. Idempotent."""
    version = put_template(client, alias, template)
    current = write_index(client, alias)
    if current:
        stored = index_mapping_version(client, current)
        if stored is not None and stored < version:
            log.warning("Index %s has mapping version %s but the template is at %s: run the migration "
                        "(docs/index-versions.md) to apply the new mapping", current, stored, version)
        return current
    if client.indices.exists(index=alias) and not client.indices.exists_alias(name=alias):
        raise BootstrapError(
            f"{alias!r} is a concrete index, not an alias: reindex it into {alias}-v1 and make {alias!r} an "
            f"alias of it (docs/index-versions.md), or choose another elasticsearch.index")
    name = f"{alias}-v{next_version(client, alias)}"
    try:
        client.indices.create(index=name, aliases={alias: {"is_write_index": True}})
        log.info("Created index %s behind alias %s", name, alias)
    except BadRequestError as e:
        if _error_type(e) != "resource_already_exists_exception":
            raise
        # Another worker created it at the same moment, or an earlier run stopped before the alias.
        if not write_index(client, alias):
            client.indices.put_alias(index=name, name=alias, is_write_index=True)
    return write_index(client, alias) or name


def ensure_aux_indices(client: Elasticsearch, settings: EsSettings) -> tuple[str, str]:
    """The dead-letter, feed-state and story indices; returns the first two's names. Idempotent.

    The feed-state and story indices are created by their owners (``transforms.sources``,
    ``transforms.stories``), so their mappings are the same whichever runs first.
    """
    try:
        client.indices.create(index=settings.deadletter_index, mappings=DEADLETTER_MAPPINGS)
        log.info("Created index %s", settings.deadletter_index)
    except BadRequestError as e:
        if _error_type(e) != "resource_already_exists_exception":
            raise
    FeedStateStore(client, settings.state_index).ensure_index()
    StoryStore(client, settings.index).ensure_indices()
    return settings.deadletter_index, settings.state_index


def migrate(client: Elasticsearch, alias: str, template: dict[str, Any] | None = None) -> str:
    """New version from the current template, documents copied, alias switched atomically; returns it.

    Stop writers first: documents written to the old index during the copy would
    be left behind (a re-run of the pipeline brings them back, as ids are stable).
    """
    old = write_index(client, alias)
    if not old:
        raise BootstrapError(f"alias {alias!r} does not exist yet: run bootstrap first")
    put_template(client, alias, template)
    new = f"{alias}-v{next_version(client, alias)}"
    client.indices.create(index=new)
    log.info("Migrating %s -> %s", old, new)
    client.indices.refresh(index=old)
    try:
        copied = _copy_documents(client, old, new)
    except Exception:
        log.error("Copy to %s failed; the alias still points at %s and %s can be deleted", new, old, new)
        raise
    client.indices.refresh(index=[old, new])
    old_count = client.count(index=old)["count"]
    new_count = client.count(index=new)["count"]
    if new_count != old_count:
        raise BootstrapError(f"copied {copied} documents but {new} holds {new_count} and {old} {old_count}: "
                             f"the alias was not switched")
    client.indices.update_aliases(actions=[
        {"remove": {"index": old, "alias": alias}},
        {"add": {"index": new, "alias": alias, "is_write_index": True}},
    ])
    log.info("Alias %s now points at %s (%d documents); %s is kept until you delete it", alias, new, new_count, old)
    return new


def write_index(client: Elasticsearch, alias: str) -> str | None:
    """The concrete index the alias writes to, or None when the alias does not exist."""
    try:
        resp = client.indices.get_alias(name=alias)
    except NotFoundError:
        return None
    indices = dict(resp)
    for index, data in indices.items():
        if data.get("aliases", {}).get(alias, {}).get("is_write_index"):
            return index
    return next(iter(indices)) if len(indices) == 1 else None


def next_version(client: Elasticsearch, alias: str) -> int:
    """One more than the highest ``<alias>-v<n>`` that exists (1 on an empty cluster)."""
    pattern = re.compile(re.escape(alias) + r"-v(\d+)$")
    try:
        names = list(client.indices.get(index=f"{alias}-v*", allow_no_indices=True, expand_wildcards="all"))
    except NotFoundError:
        names = []
    versions = [int(m.group(1)) for n in names if (m := pattern.match(n))]
    return max(versions, default=0) + 1


def index_mapping_version(client: Elasticsearch, index: str) -> int | None:
    mapping = client.indices.get_mapping(index=index)
    meta = dict(mapping).get(index, {}).get("mappings", {}).get("_meta") or {}
    version = meta.get("mapping_version")
    return int(version) if version is not None else None


def _copy_documents(client: Elasticsearch, source: str, dest: str) -> int:
    """Server-side ``_reindex`` where the cluster has it; a scroll-and-bulk copy otherwise (core-only nodes)."""
    try:
        resp = client.reindex(source={"index": source}, dest={"index": dest, "op_type": "create"},
                              wait_for_completion=True, refresh=True, conflicts="abort")
        failures = resp.get("failures") or []
        if failures:
            raise BootstrapError(f"reindex {source} -> {dest} failed for {len(failures)} documents, "
                                 f"first: {failures[0]}")
        return int(resp.get("created", 0)) + int(resp.get("updated", 0))
    except ApiError as e:
        if e.meta.status not in (400, 404, 405) or _error_type(e) not in ("", "unknown"):
            raise
        log.info("This cluster has no _reindex (core-only node): copying with scroll and bulk")
    actions = ({"_op_type": "create", "_index": dest, "_id": hit["_id"], "_source": hit["_source"]}
               for hit in helpers.scan(client, index=source, query={"query": {"match_all": {}}}, size=500))
    ok, errors = helpers.bulk(client, actions, chunk_size=500, raise_on_error=False, stats_only=False)
    if errors:
        raise BootstrapError(f"copy {source} -> {dest} failed for {len(errors)} documents, first: {errors[0]}")
    return int(ok)


def _error_type(e: ApiError) -> str:
    body = e.body if isinstance(e.body, dict) else {}
    err = body.get("error")
    if isinstance(err, dict):
        return str(err.get("type", "unknown"))
    return "unknown" if err else ""
