"""The story lookup in Elasticsearch, and how a batch of articles is placed in stories with it.

Two indices, owned here:

- ``<alias>-story-keys``: one member document per article (``_id`` = the article id; a later version
  whose body changed adds ``<id>#<hash>``), with the LSH band keys as keyword terms, the signature,
  the story it belongs to and whether it founded it. Candidates come from one ``msearch`` per batch
  (a ``bool`` of ``term`` queries on the band keys, scored by the number of keys shared). One shard,
  so that ``_seq_no`` orders every write: "the earliest story" is the one whose founder was written
  first.
- ``<alias>-stories``: one document per story for Kibana and ``search --stories``: the first
  article's title, when and where it was first seen, and the number of copies, counted from the
  members (not incremented) and written with the count as external version, so a stale count
  never overwrites a newer one.

- ``<alias>-story-lock``: the lease that lets one batch be placed at a time (``transforms.stories.lock``).

Placing a batch (``StoryStore.place``), holding the lease: look up the batch's known members and
candidates, apply the story id rule (``assign``), write the members with a refresh. Should anyone else
have written meanwhile (a store without the lease, or a lease that ran out), settle: the stories the
batch founded are looked up again, and if a story founded at the same moment on another worker
matches, both sides keep the one whose founder was written first (``settle``); stories the batch
joined are followed to where they were merged. No story state is kept between batches: memory stays flat
however many stories the index holds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from elasticsearch import BadRequestError, Elasticsearch

from transforms.backoff import backoff_delay
from transforms.elastic import is_transient
from transforms.stories.assign import Incoming, Member, assign, settle
from transforms.stories.lock import PlacingLock
from transforms.stories.match import DEFAULT_RULES, MatchRules, compare
from transforms.stories.signature import SIGNATURE_VERSION, Signature

log = logging.getLogger(__name__)

T = TypeVar("T")
# Members fetched per article, those sharing the most band keys first: a copy shares many (J = 0.5
# gives 5 of 42 on average), a look-alike from a template few, so the copy ranks in the first few.
CANDIDATES = 8
MAX_HOPS = 8  # merged stories followed at most this far

_BINARY = {"type": "binary"}
KEYS_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "article": {"type": "keyword"},
        "story": {"type": "keyword"},
        "founder": {"type": "boolean"},
        "primary": {"type": "boolean"},  # the article's first member (later versions add more)
        "keys": {"type": "keyword", "doc_values": False},
        "version": {"type": "keyword"},
        "sig": _BINARY, "numbers": _BINARY, "names": _BINARY,
        "size": {"type": "integer", "index": False},
        "content_hash": {"type": "keyword", "index": False},
        "first_seen_at": {"type": "date"},
        "source": {"type": "keyword"},
        "title": {"type": "keyword", "index": False, "doc_values": False},
    },
}
STORIES_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "@timestamp": {"type": "date"},  # first seen: the data view's time field
        "story": {"properties": {"id": {"type": "keyword"}, "first_seen_at": {"type": "date"},
                                 "first_source": {"type": "keyword"}, "copies": {"type": "integer"}}},
        "title": {"type": "text", "analyzer": "standard",
                  "fields": {"keyword": {"type": "keyword", "ignore_above": 1024}}},
        "sources": {"type": "keyword"},
        "last_seen_at": {"type": "date"},
    },
}


class StoryStoreUnavailable(RuntimeError):
    """Elasticsearch stayed busy or away through every retry of a story lookup or write.

    Raised rather than placing articles in stories of their own: the bundle fails and the runner
    retries it, as with the sink's writes, and the member ids make that harmless.
    """


@dataclass(frozen=True)
class Arrival:
    """What the store needs of an article: ids, when and where it was first seen, its signature."""

    article_id: str
    content_hash: str
    first_seen_at: str
    source: str
    title: str
    signature: Signature
    keys: tuple[str, ...]
    published_at: str | None = None

    def incoming(self) -> Incoming:
        return Incoming(self.article_id, self.first_seen_at, self.signature, self.keys, self.published_at)


@dataclass(frozen=True)
class Placement:
    """An article's story, as its document carries it."""

    story_id: str
    first_seen_at: str | None
    first_source: str | None

    def fields(self) -> dict[str, Any]:
        return {"id": self.story_id, "first_seen_at": self.first_seen_at, "first_source": self.first_source}


@dataclass(frozen=True)
class _Founder:
    seq_no: int
    story: str  # where it points now (itself unless merged)
    first_seen_at: str | None
    source: str | None
    title: str | None = None


class StoryStore:
    """The lookup and story indices of one alias; see the module docstring."""

    def __init__(self, client: Elasticsearch, alias: str, *, rules: MatchRules = DEFAULT_RULES,
                 max_retries: int = 6, backoff_initial: float = 0.5, backoff_max: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep, exclusive: bool = True) -> None:
        self.client = client
        self.keys_index = f"{alias}-story-keys"
        self.stories_index = f"{alias}-stories"
        # exclusive=False places without the lease (and relies on settling alone), as tests of the race do.
        self.lock = PlacingLock(client, f"{alias}-story-lock", retry=self._retry) if exclusive else None
        self.rules = rules
        self.max_retries = max_retries
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.sleep = sleep
        self.retried = 0  # requests sent again after a transient failure, for the caller's metrics

    def ensure_indices(self) -> None:
        for index, mappings, shards in ((self.keys_index, KEYS_MAPPINGS, 1),
                                        (self.stories_index, STORIES_MAPPINGS, 1)):
            if self.client.indices.exists(index=index):
                continue
            try:
                self.client.indices.create(index=index, mappings=mappings,
                                           settings={"number_of_shards": shards, "refresh_interval": "1s"})
                log.info("Created index %s", index)
            except BadRequestError as e:
                if "resource_already_exists" not in str(e):
                    raise
        if self.lock is not None:
            self.lock.ensure_index()

    def stories(self, story_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The story documents of ``story_ids`` (those that exist); nothing when there is no story index."""
        if not story_ids:
            return {}
        resp = self.client.options(ignore_status=404).mget(index=self.stories_index, ids=list(dict.fromkeys(story_ids)))
        return {d["_id"]: d["_source"] for d in resp.get("docs", []) if d.get("found")}

    # --- placing a batch ---------------------------------------------------------------------------------

    def place(self, batch: Sequence[Arrival], now: str) -> dict[str, Placement]:
        """Article id -> its story, for every article of the batch; members and stories are written."""
        if not batch:
            return {}
        if self.lock is None:
            return self._place(batch, now)
        with self.lock.held():
            return self._place(batch, now)

    def _place(self, batch: Sequence[Arrival], now: str) -> dict[str, Placement]:
        by_id = {a.article_id: a for a in batch}
        known, seen_upto = self._known(list(by_id))
        candidates = self._candidates([a for a in batch if a.article_id not in known])
        founders = self._founders({m.story_id for ms in candidates.values() for m in ms}
                                  | {story for story, _ in known.values()})
        result = assign([a.incoming() for a in batch],
                        {i: self._resolve(story, founders) for i, (story, _) in known.items()},
                        candidates, self._order(founders), self.rules)
        story_of = {a.article_id: a.story_id for a in result}
        # A new article is a primary member; a known one whose body changed (a later version) adds one.
        written = self._write_members(
            [(by_id[a.article_id], a.story_id, a.founded, not a.known) for a in result
             if not a.known or by_id[a.article_id].content_hash not in known[a.article_id][1]], refresh=True)
        # Nobody else wrote since the lookup when this batch's writes are exactly the next sequence numbers
        # (two bulks sent at once interleave theirs, so the first one alone proves nothing).
        if written and written != list(range(seen_upto + 1, seen_upto + 1 + len(written))):
            # Other workers wrote members between this batch's lookup and its write: settle any story
            # founded here against theirs, and follow stories joined here that may have been merged since.
            founded = {a.story_id for a in result if a.founded}
            moved = self._settle(founded, story_of, by_id, founders, seen_upto) if founded else {}
            if moved:
                log.info("Stories founded at the same moment elsewhere, kept the earlier: %s", moved)
                self._write_members([(by_id[i], moved[s], False, True) for i, s in story_of.items() if s in moved],
                                    refresh=True)
                story_of = {i: moved.get(s, s) for i, s in story_of.items()}
            founders.update(self._founders(set(story_of.values())))
            story_of = {i: self._resolve(s, founders) for i, s in story_of.items()}
        else:
            founders.update(self._founders({s for s in story_of.values() if s not in founders}))
        self._write_stories(set(story_of.values()), founders, now)
        out = {}
        for i, s in story_of.items():
            f = founders.get(s)
            out[i] = Placement(s, f.first_seen_at if f else by_id[i].first_seen_at, f.source if f else by_id[i].source)
        return out

    def _settle(self, founded: set[str], story_of: dict[str, str], by_id: dict[str, Arrival],
                founders: dict[str, _Founder], seen_upto: int) -> dict[str, str]:
        """Founded story -> the story it moves to, when a story founded elsewhere at the same moment matches.

        Only founders written after this batch's lookup saw the index (``_seq_no`` > ``seen_upto``), other
        than this batch's own, can be such stories; those written before this batch's write returned are
        visible now, after its refresh. Of two founders racing, the one that looks here later sees the
        other; both keep the one written first (``settle``), so both end on the same story.
        """
        arrivals = [by_id[i] for i, s in story_of.items() if s in founded]
        keys = sorted({k for a in arrivals for k in a.keys})
        if not keys:
            return {}
        resp = self._retry(lambda: self.client.search(
            index=self.keys_index, size=500, source=["article", "story", "keys", "sig", "size", "numbers", "names"],
            query={"bool": {"filter": [{"range": {"_seq_no": {"gt": seen_upto}}},
                                       {"term": {"founder": True}}, {"term": {"version": SIGNATURE_VERSION}},
                                       {"terms": {"keys": keys}}],
                            "must_not": [{"ids": {"values": [a.article_id for a in arrivals]}}]}}))
        matched: dict[str, set[str]] = {s: set() for s in founded}
        for hit in resp["hits"]["hits"]:
            src = hit["_source"]
            theirs = Signature.decode(src)
            their_keys = set(src.get("keys") or ())
            for a in arrivals:
                if their_keys.intersection(a.keys) and compare(a.signature, theirs, self.rules).copy:
                    matched[story_of[a.article_id]].add(src["story"])
        if not any(matched.values()):
            return {}
        founders.update(self._founders(founded | {s for ss in matched.values() for s in ss}))
        order = self._order(founders)
        moved = {s: settle(s, [self._resolve(o, founders) for o in matched[s]], order) for s in founded}
        return {s: t for s, t in moved.items() if t != s}

    # --- reads ---------------------------------------------------------------------------------------------

    def _known(self, article_ids: list[str]) -> tuple[dict[str, tuple[str, set[str]]], int]:
        """Article id -> (its story, the content hashes stored for it), for articles that are members already;
        and the highest ``_seq_no`` this search saw (every write up to it is visible from now on)."""
        # The aggregation runs over every member; post_filter keeps only the batch's in the hits.
        resp = self._retry(lambda: self.client.search(
            index=self.keys_index, size=10 * len(article_ids), post_filter={"terms": {"article": article_ids}},
            source=["article", "story", "content_hash", "primary"], aggs={"upto": {"max": {"field": "_seq_no"}}}))
        out: dict[str, tuple[str, set[str]]] = {}
        for hit in resp["hits"]["hits"]:
            src = hit["_source"]
            story, hashes = out.get(src["article"], (src["story"], set()))
            if src.get("primary"):
                story = src["story"]
            out[src["article"]] = (story, hashes | {src.get("content_hash") or ""})
        upto = resp["aggregations"]["upto"]["value"]
        return out, int(upto) if upto is not None else -1

    def _candidates(self, arrivals: Sequence[Arrival]) -> dict[str, list[Member]]:
        """Per article, the stored members sharing the most band keys with it."""
        searches: list[dict[str, Any]] = []
        asked = [a for a in arrivals if a.keys]
        for a in asked:
            searches.append({"index": self.keys_index})
            searches.append({
                "size": CANDIDATES, "_source": ["article", "story", "sig", "size", "numbers", "names"],
                "query": {"bool": {"should": [{"constant_score": {"filter": {"term": {"keys": k}}}} for k in a.keys],
                                   "minimum_should_match": 1,
                                   "filter": [{"term": {"version": SIGNATURE_VERSION}}]}}})
        if not searches:
            return {}
        resp = self._retry(lambda: self.client.msearch(searches=searches))
        out: dict[str, list[Member]] = {}
        for a, r in zip(asked, resp["responses"], strict=True):
            if "error" in r:
                raise RuntimeError(f"story lookup failed for {a.article_id}: {r['error']}")
            out[a.article_id] = [Member(h["_source"]["article"], h["_source"]["story"],
                                        Signature.decode(h["_source"]))
                                 for h in r["hits"]["hits"]]
        return out

    def _founders(self, stories: set[str]) -> dict[str, _Founder]:
        """The founder members of ``stories`` (and of those they were merged into), with their ``_seq_no``."""
        out: dict[str, _Founder] = {}
        todo = set(stories)
        for _ in range(MAX_HOPS):
            if not todo:
                break
            resp = self._retry(partial(self.client.mget, index=self.keys_index, ids=sorted(todo),
                                       source=["story", "first_seen_at", "source", "title"]))
            todo = set()
            for doc in resp["docs"]:
                if not doc.get("found"):
                    continue
                src = doc["_source"]
                out[doc["_id"]] = _Founder(int(doc["_seq_no"]), src["story"], src.get("first_seen_at"),
                                           src.get("source"), src.get("title"))
                if src["story"] != doc["_id"] and src["story"] not in out:
                    todo.add(src["story"])
        return out

    @staticmethod
    def _resolve(story: str, founders: dict[str, _Founder]) -> str:
        for _ in range(MAX_HOPS):
            f = founders.get(story)
            if f is None or f.story == story:
                return story
            story = f.story
        return story

    @staticmethod
    def _order(founders: dict[str, _Founder]) -> Callable[[str], int]:
        # A story whose founder is not stored yet (founded in this batch) comes after every stored one.
        return lambda s: founders[s].seq_no if s in founders else 1 << 62

    # --- writes --------------------------------------------------------------------------------------------

    def _write_members(self, members: list[tuple[Arrival, str, bool, bool]], *, refresh: bool) -> list[int]:
        """(arrival, story, founded, primary): a primary member is ``_id`` = article id, a version ``id#hash``.

        Returns the ``_seq_no`` of each write, in order."""
        ops: list[dict[str, Any]] = []
        for a, story, founded, primary in members:
            doc_id = a.article_id if primary else f"{a.article_id}#{a.content_hash[:16]}"
            ops.append({"index": {"_index": self.keys_index, "_id": doc_id}})
            ops.append({"article": a.article_id, "story": story, "founder": founded, "primary": primary,
                        "keys": list(a.keys), "version": SIGNATURE_VERSION, **a.signature.encode(),
                        "content_hash": a.content_hash, "first_seen_at": a.first_seen_at, "source": a.source,
                        "title": a.title[:1000]})
        if not ops:
            return []
        resp = self._bulk(ops, refresh=refresh)
        return sorted(int(action["_seq_no"]) for item in resp["items"] for action in item.values())

    def _write_stories(self, stories: set[str], founders: dict[str, _Founder], now: str) -> None:
        """Each story's document, its copies counted from the primary members."""
        resp = self._retry(lambda: self.client.search(
            index=self.keys_index, size=0,
            query={"bool": {"filter": [{"terms": {"story": sorted(stories)}}, {"term": {"primary": True}}]}},
            aggs={"stories": {"terms": {"field": "story", "size": len(stories)},
                              "aggs": {"sources": {"terms": {"field": "source", "size": 50}}}}}))
        counts = {b["key"]: (b["doc_count"], [s["key"] for s in b["sources"]["buckets"]])
                  for b in resp["aggregations"]["stories"]["buckets"]}
        ops: list[dict[str, Any]] = []
        for story in sorted(stories):
            copies, sources = counts.get(story, (1, []))
            f = founders.get(story) or _Founder(0, story, now, None)
            ops.append({"index": {"_index": self.stories_index, "_id": story, "version": copies,
                                  "version_type": "external_gte"}})
            ops.append({"@timestamp": f.first_seen_at or now, "title": f.title or "",
                        "story": {"id": story, "first_seen_at": f.first_seen_at or now, "first_source": f.source,
                                  "copies": copies},
                        "sources": sources, "last_seen_at": now})
        self._bulk(ops, refresh=False, conflicts_ok=True)

    def _bulk(self, ops: list[dict[str, Any]], *, refresh: bool, conflicts_ok: bool = False) -> Any:
        resp = self._retry(lambda: self.client.bulk(operations=ops, refresh=refresh))
        if resp.get("errors"):
            failed = [item for item in resp["items"] for action in item.values()
                      if action.get("error") and not (conflicts_ok and action.get("status") == 409)]
            if failed:
                raise RuntimeError(f"{len(failed)} story writes failed, first: {failed[0]}")
        return resp

    def _retry(self, call: Callable[[], T]) -> T:
        """The call, again after a backoff while the cluster is busy or away; then the error is raised."""
        for attempt in range(1, self.max_retries + 2):
            try:
                return call()
            except Exception as e:  # is_transient decides which are waited out
                if not is_transient(e):
                    raise
                if attempt > self.max_retries:
                    raise StoryStoreUnavailable(f"the story lookup in Elasticsearch failed {attempt} times, last: "
                                                f"{type(e).__name__}: {e}") from e
                delay = backoff_delay(attempt, self.backoff_initial, self.backoff_max)
                log.warning("Story lookup: %s; trying again in %.1f s", e, delay)
                self.retried += 1
                self.sleep(delay)
        raise AssertionError("unreachable")
