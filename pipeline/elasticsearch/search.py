"""Searching the index from the command line, with the facets editors use in Kibana."""

from __future__ import annotations

from typing import Any

# Facet name -> keyword field: what --filter accepts and what the results count.
FACETS = {
    "source": "source.name",
    "agency": "agency",
    "language": "language",
    "person": "entities.person",
    "org": "entities.org",
    "location": "entities.location",
    "norp": "entities.norp",
    "event": "entities.event",
}
ENDS_CHARS = 70  # how much of a body's end the results show


class FilterError(ValueError):
    """A --filter that is not FACET=VALUE with a known facet; the message names it and the facets."""


def parse_filters(specs: list[str] | None) -> dict[str, str]:
    """``["agency=xinhua", "person=Xi Jinping"]`` as {facet: value}; a missing ``=`` or an unknown facet
    is refused rather than silently matching nothing."""
    filters: dict[str, str] = {}
    for spec in specs or []:
        facet, sep, value = spec.partition("=")
        facet = facet.strip().lower()
        if not sep or not facet or not value.strip():
            raise FilterError(f"--filter {spec!r}: write FACET=VALUE, e.g. agency=xinhua "
                              f"(facets: {', '.join(FACETS)})")
        if facet not in FACETS:
            raise FilterError(f"--filter {spec!r}: no facet {facet!r}; the facets are {', '.join(FACETS)}")
        filters[facet] = value.strip()
    return filters


def build_query(query: str, *, size: int = 10, filters: dict[str, str] | None = None) -> dict[str, Any]:
    """A full-text query over title and body with facet aggregations and highlighted snippets, as keyword
    arguments of the client's ``search`` (the same in the 8.x and 9.x clients)."""
    must: list[dict[str, Any]] = (
        [{"simple_query_string": {"query": query, "fields": ["title^3", "summary^2", "body"],
                                  "default_operator": "and"}}]
        if query.strip() and query.strip() != "*" else [{"match_all": {}}])
    flt = [{"term": {FACETS[k]: v}} for k, v in (filters or {}).items()]
    return {
        "query": {"bool": {"must": must, "filter": flt}},
        "size": size,
        "sort": ["_score", {"@timestamp": "desc"}],
        "source": ["title", "url", "@timestamp", "source.name", "agency", "dateline", "language",
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
        snippets = hit.get("highlight", {}).get("body") or [head_words(src.get("body") or "", 160)]
        for s in snippets:
            out.append("   … " + " ".join(s.split()) + " …")
        body = src.get("body") or ""
        out.append(f"   ends: …{tail_words(body, ENDS_CHARS)!r}")
        out.append(f"   {src.get('url', '')}")
        out.append("")
    aggs = resp.get("aggregations", {})
    for name in FACETS:
        buckets = aggs.get(name, {}).get("buckets", [])
        if buckets:
            out.append(f"{name}: " + ", ".join(f"{b['key']} ({b['doc_count']})" for b in buckets))
    return "\n".join(out)


def head_words(text: str, limit: int) -> str:
    """At most ``limit`` characters of the start of ``text``, cut at a word boundary."""
    if len(text) <= limit:
        return text
    cut = text[:limit + 1]
    return cut[:cut.rfind(" ")].rstrip() if " " in cut.strip() else text[:limit]


def tail_words(text: str, limit: int) -> str:
    """At most ``limit`` characters of the end of ``text``, starting at a word boundary."""
    if len(text) <= limit:
        return text
    cut = text[-limit - 1:]
    split = next((i for i, c in enumerate(cut) if c.isspace()), -1)
    return cut[split:].lstrip() if split >= 0 and cut[split:].strip() else text[-limit:]
