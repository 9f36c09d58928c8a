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
    "service": "wire.service",
    "priority": "wire.priority",
    "subject": "wire.subjects.name",
}
ENDS_CHARS = 70  # how much of a body's end the results show
# An article withdrawn by its agency (killed or withheld) is never shown as current.
NOT_WITHDRAWN = {"bool": {"must_not": [{"term": {"withdrawn": True}}]}}


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


def build_query(query: str, *, size: int = 10, filters: dict[str, str] | None = None,
                stories: bool = False, include_withdrawn: bool = False) -> dict[str, Any]:
    """A full-text query over title and body with facet aggregations and highlighted snippets, as keyword
    arguments of the client's ``search`` (the same in the 8.x and 9.x clients).

    ``stories``: one hit per story (``collapse`` on ``story.id``: the best-matching copy stands for
    the story), with the number of its copies that match, and the number of stories in all.
    ``include_withdrawn``: also articles their agency killed or withheld, left out otherwise.
    """
    must: list[dict[str, Any]] = (
        [{"simple_query_string": {"query": query, "fields": ["title^3", "summary^2", "body"],
                                  "default_operator": "and"}}]
        if query.strip() and query.strip() != "*" else [{"match_all": {}}])
    flt = [{"term": {FACETS[k]: v}} for k, v in (filters or {}).items()]
    if not include_withdrawn:
        flt.append(NOT_WITHDRAWN)
    body: dict[str, Any] = {
        "query": {"bool": {"must": must, "filter": flt}},
        "size": size,
        "sort": ["_score", {"@timestamp": "desc"}],
        "source": ["title", "url", "guid", "@timestamp", "source.name", "agency", "dateline", "language",
                   "entities.person", "entities.org", "entities.location", "cleaning", "body", "withdrawn",
                   "wire.service", "wire.priority", "wire.versions", "wire.status", "wire.slugline"],
        "highlight": {"fields": {"body": {"fragment_size": 160, "number_of_fragments": 2},
                                 "title": {"number_of_fragments": 0}},
                      "pre_tags": ["["], "post_tags": ["]"]},
        "aggs": {name: {"terms": {"field": field, "size": 10}} for name, field in FACETS.items()},
        "track_total_hits": True,
    }
    if stories:
        body["source"].append("story")
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
        wire = src.get("wire") or {}
        mark = " [WITHDRAWN]" if src.get("withdrawn") else ""
        out.append(f"{i}. {src.get('title', '')}{mark}")
        if stories is not None:
            out.append("   " + _story_line(hit, stories))
        out.append(f"   {src.get('@timestamp', '')}  {src.get('source', {}).get('name', '')}"
                   f"  agency={src.get('agency') or '-'}  dateline={dl.get('location') or '-'}"
                   f"  language={src.get('language') or '-'}")
        if wire:
            out.append(f"   wire: service={wire.get('service') or '-'}  priority={wire.get('priority') or '-'}"
                       f"  versions={wire.get('versions') or '-'}  slug={wire.get('slugline') or '-'}")
        for label in ("person", "org", "location"):
            if ents.get(label):
                out.append(f"   {label}: {', '.join(ents[label][:8])}")
        snippets = hit.get("highlight", {}).get("body") or [head_words(src.get("body") or "", 160)]
        for s in snippets:
            out.append("   … " + " ".join(s.split()) + " …")
        body = src.get("body") or ""
        out.append(f"   ends: …{tail_words(body, ENDS_CHARS)!r}")
        # A wire story has no web address; its guid is what finds it in the agency's own system.
        out.append(f"   {src.get('url') or ('guid ' + src['guid'] if src.get('guid') else '-')}")
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
