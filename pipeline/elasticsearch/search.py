"""Searching the index from the command line, with the facets editors use in Kibana."""

from __future__ import annotations

from typing import Any

FACETS = {
    "source": "source.name",
    "agency": "agency",
    "person": "entities.person",
    "org": "entities.org",
    "location": "entities.location",
}


def build_query(query: str, *, size: int = 10, filters: dict[str, str] | None = None) -> dict[str, Any]:
    """A full-text query over title and body with facet aggregations and highlighted snippets."""
    must: list[dict[str, Any]] = (
        [{"simple_query_string": {"query": query, "fields": ["title^3", "summary^2", "body"],
                                  "default_operator": "and"}}]
        if query.strip() and query.strip() != "*" else [{"match_all": {}}])
    flt = [{"term": {FACETS.get(k, k): v}} for k, v in (filters or {}).items()]
    return {
        "query": {"bool": {"must": must, "filter": flt}},
        "size": size,
        "sort": ["_score", {"@timestamp": "desc"}],
        "_source": ["title", "url", "@timestamp", "source.name", "agency", "dateline", "language",
                    "entities.person", "entities.org", "entities.location", "cleaning", "body"],
        "highlight": {"fields": {"body": {"fragment_size": 160, "number_of_fragments": 2},
                                 "title": {"number_of_fragments": 0}},
                      "pre_tags": ["["], "post_tags": ["]"]},
        "aggs": {name: {"terms": {"field": field, "size": 10}} for name, field in FACETS.items()},
        "track_total_hits": True,
    }


def format_results(resp: dict[str, Any], query: str) -> str:
    hits = resp.get("hits", {})
    total = hits.get("total", {}).get("value", 0)
    out = [f'{total} article(s) match "{query}"', ""]
    for i, hit in enumerate(hits.get("hits", []), 1):
        src = hit.get("_source", {})
        ents = src.get("entities", {})
        dl = src.get("dateline") or {}
        out.append(f"{i}. {src.get('title', '')}")
        out.append(f"   {src.get('@timestamp', '')}  {src.get('source', {}).get('name', '')}"
                   f"  agency={src.get('agency') or '-'}  dateline={dl.get('location') or '-'}"
                   f"  language={src.get('language') or '-'}")
        for label in ("person", "org", "location"):
            if ents.get(label):
                out.append(f"   {label}: {', '.join(ents[label][:8])}")
        snippets = hit.get("highlight", {}).get("body") or [(src.get("body") or "")[:160]]
        for s in snippets:
            out.append("   … " + " ".join(s.split()) + " …")
        body = src.get("body") or ""
        out.append(f"   ends: …{body[-70:]!r}")
        out.append(f"   {src.get('url', '')}")
        out.append("")
    aggs = resp.get("aggregations", {})
    for name in FACETS:
        buckets = aggs.get(name, {}).get("buckets", [])
        if buckets:
            out.append(f"{name}: " + ", ".join(f"{b['key']} ({b['doc_count']})" for b in buckets))
    return "\n".join(out)
