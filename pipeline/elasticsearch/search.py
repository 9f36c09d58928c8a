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


def build_query(query: str, *, size: int = 10, filters: dict[str, str] | None = None,
                stories: bool = False) -> dict[str, Any]:
    """A full-text query over title and body with facet aggregations and highlighted snippets.

    ``stories``: one hit per story (``collapse`` on ``story.id``: the best-matching copy stands for
    the story), with the number of its copies that match, and the number of stories in all.
    """
    must: list[dict[str, Any]] = (
        [{"simple_query_string": {"query": query, "fields": ["title^3", "summary^2", "body"],
                                  "default_operator": "and"}}]
        if query.strip() and query.strip() != "*" else [{"match_all": {}}])
    flt = [{"term": {FACETS.get(k, k): v}} for k, v in (filters or {}).items()]
    body: dict[str, Any] = {
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
    if stories:
        body["_source"].append("story")
        body["collapse"] = {"field": "story.id", "inner_hits": {"name": "copies", "size": 0}}
        body["aggs"]["stories"] = {"cardinality": {"field": "story.id"}}
    return body


def format_results(resp: dict[str, Any], query: str, stories: dict[str, dict[str, Any]] | None = None) -> str:
    """The hits as text; ``stories`` (story id -> its story document) marks a search collapsed by story."""
    hits = resp.get("hits", {})
    total = hits.get("total", {}).get("value", 0)
    if stories is None:
        out = [f'{total} article(s) match "{query}"', ""]
    else:
        count = resp.get("aggregations", {}).get("stories", {}).get("value", 0)
        out = [f'{count} stor{"y" if count == 1 else "ies"} ({total} article(s)) match "{query}"', ""]
    for i, hit in enumerate(hits.get("hits", []), 1):
        src = hit.get("_source", {})
        ents = src.get("entities", {})
        dl = src.get("dateline") or {}
        out.append(f"{i}. {src.get('title', '')}")
        if stories is not None:
            out.append("   " + _story_line(hit, stories))
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


def _story_line(hit: dict[str, Any], stories: dict[str, dict[str, Any]]) -> str:
    """'story <id>: 3 copies (2 match), first from Xinhua at <time>'."""
    story = hit.get("_source", {}).get("story") or {}
    sid = story.get("id")
    if not sid:
        return "story: - (indexed before stories were grouped)"
    matching = hit.get("inner_hits", {}).get("copies", {}).get("hits", {}).get("total", {}).get("value", 1)
    known = (stories.get(sid) or {}).get("story") or {}
    copies = known.get("copies", matching)
    first = known.get("first_source") or story.get("first_source") or "-"
    when = known.get("first_seen_at") or story.get("first_seen_at") or "-"
    return (f"story {sid}: {copies} cop{'y' if copies == 1 else 'ies'} ({matching} matching), "
            f"first from {first} at {when}")
