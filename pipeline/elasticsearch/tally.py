"""What a run wrote, counted back from Elasticsearch: the summary's counts for a runner without metrics.

The run's feed states (their last attempt since the run started; a pending one is a feed that was
fetched), the documents of the stories those polls passed on (new when first seen since the run
started, else updated) and its dead letters, as the ``(namespace, name, value)`` counters the summary
folds in. Read before the feed state is committed: the pending states name each feed's stories.
Articles found unchanged leave no trace in Elasticsearch, so they are not counted here.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from pipeline.config import Config
from pipeline.summary import FEED_NAMESPACE, NAMESPACE
from transforms.elastic import make_client
from transforms.sources.dates import parse_iso
from transforms.sources.feed_state import PENDING_SUFFIX


def tally(cfg: Config, since: datetime) -> list[tuple[str, str, int]]:
    client = make_client(cfg.es)
    try:
        return tally_with(client, cfg.es.index, cfg.es.state_index, cfg.es.deadletter_index, since)
    finally:
        client.close()


def tally_with(client: Any, index: str, state_index: str, deadletter_index: str,
               since: datetime) -> list[tuple[str, str, int]]:
    counts: Counter[tuple[str, str]] = Counter()
    client.indices.refresh(index=f"{state_index},{deadletter_index}", ignore_unavailable=True)
    states: dict[str, dict[str, Any]] = {}
    for hit in client.search(index=state_index, size=10_000, query={"match_all": {}})["hits"]["hits"]:
        doc = hit["_source"]
        if hit["_id"].endswith(PENDING_SUFFIX) or doc.get("name") not in states:
            states[doc.get("name") or hit["_id"]] = doc  # a feed's pending state is newer than its current one
    stories: dict[str, str] = {}  # story id -> feed
    for name, doc in states.items():
        attempted = parse_iso(doc.get("last_attempt_at"))
        if attempted is None or attempted < since or doc.get("last_status") not in ("fetched", "unchanged", "failed"):
            continue
        counts[(NAMESPACE, f"feeds_{doc['last_status']}")] += 1
        counts[(FEED_NAMESPACE + name, doc["last_status"])] += 1
        stories |= {story: name for story in doc.get("article_ids") or []}
    if stories:
        resp = client.mget(index=index, ids=sorted(stories), source_includes=["ingested_at", "first_seen_at"])
        for d in resp["docs"]:
            ingested, first = (parse_iso((d.get("_source") or {}).get(k)) for k in ("ingested_at", "first_seen_at"))
            if d.get("found") and ingested is not None and ingested >= since:
                kind = "new" if first is None or first >= since else "updated"
                counts[(NAMESPACE, f"articles_{kind}")] += 1
                counts[(FEED_NAMESPACE + stories[d["_id"]], kind)] += 1
    if client.indices.exists(index=deadletter_index):
        resp = client.search(index=deadletter_index, size=0,
                             query={"range": {"@timestamp": {"gte": since.isoformat()}}},
                             aggs={"feeds": {"terms": {"field": "feed", "size": 10_000, "missing": ""}}})
        for bucket in resp["aggregations"]["feeds"]["buckets"]:
            counts[(NAMESPACE, "articles_dead_lettered")] += bucket["doc_count"]
            counts[(FEED_NAMESPACE + (bucket["key"] or "unknown"), "dead_lettered")] += bucket["doc_count"]
    return [(ns, name, n) for (ns, name), n in sorted(counts.items())]
