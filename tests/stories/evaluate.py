"""Pair precision and recall of the story clustering on the test set, with an in-memory store.

The store here is a dict of band key -> members, standing in for the Elasticsearch lookup so the rule can be
measured alone; ``assign`` is the same function the pipeline runs. Run as a script to print the figures:

    .venv/bin/python -m tests.stories.evaluate [dev|held] [--batch N] [--shingle-words K] [--bands B --rows R]
"""

from __future__ import annotations

import argparse
import itertools
from collections import defaultdict

from tests.stories import testset
from transforms.stories import Hasher, Incoming, MatchRules, Member, assign, compare
from transforms.stories.match import DEFAULT_RULES


class MemoryStore:
    """Members by band key, stories in founding order: what the Elasticsearch store keeps, in a dict."""

    def __init__(self) -> None:
        self.by_key: dict[str, list[Member]] = defaultdict(list)
        self.story_of: dict[str, str] = {}
        self.order: dict[str, int] = {}

    def place(self, batch: list[Incoming], rules: MatchRules) -> dict[str, str]:
        known = {i.article_id: self.story_of[i.article_id] for i in batch if i.article_id in self.story_of}
        candidates = {}
        for inc in batch:
            seen: dict[str, Member] = {}
            for key in inc.keys:
                for m in self.by_key.get(key, ()):
                    seen.setdefault(m.article_id, m)
            candidates[inc.article_id] = list(seen.values())
        result = assign(batch, known, candidates, lambda s: self.order.get(s, len(self.order)), rules)
        by_id = {i.article_id: i for i in batch}
        for a in result:
            if a.founded:
                self.order.setdefault(a.story_id, len(self.order))
            if not a.known:
                inc = by_id[a.article_id]
                member = Member(a.article_id, a.story_id, inc.signature, inc.keys)
                for key in inc.keys:
                    self.by_key[key].append(member)
            self.story_of[a.article_id] = a.story_id
        return {a.article_id: a.story_id for a in result}


def run(split: str, *, batch: int = 8, hasher: Hasher | None = None, rules: MatchRules = DEFAULT_RULES,
        cleaned: list | None = None) -> dict[str, object]:
    hasher = hasher or Hasher()
    data = cleaned if cleaned is not None else testset.cleaned(split)
    store = MemoryStore()
    story_of: dict[str, str] = {}
    incoming = []
    for n, (item, text) in enumerate(data):
        sig = hasher.signature(text)
        incoming.append(Incoming(item.id, f"2024-01-01T00:{n // 60:02d}:{n % 60:02d}Z", sig,
                                 tuple(hasher.band_keys(sig))))
    for start in range(0, len(incoming), batch):
        story_of.update(store.place(incoming[start:start + batch], rules))
    its = [item for item, _ in data]
    precision, recall, tp, fp, fn = testset.pair_scores(its, story_of)
    return {"split": split, "items": len(its), "stories": len({i.story for i in its}),
            "clusters": len(set(story_of.values())), "precision": precision, "recall": recall,
            "tp": tp, "fp": fp, "fn": fn, "story_of": story_of, "incoming": incoming, "data": data}


def errors(result: dict[str, object], rules: MatchRules = DEFAULT_RULES) -> list[str]:
    """The pairs it got wrong, with the measures, to see why."""
    data = result["data"]
    sigs = {i.article_id: i.signature for i in result["incoming"]}
    story_of = result["story_of"]
    lines = []
    for (a, _), (b, _) in itertools.combinations(data, 2):
        same, placed = a.story == b.story, story_of[a.id] == story_of[b.id]
        if same != placed:
            v = compare(sigs[a.id], sigs[b.id], rules)
            kind = "missed" if same else "merged"
            lines.append(f"{kind}: {a.id} [{','.join(a.edits)}] / {b.id} [{','.join(b.edits)}] "
                         f"j={v.jaccard:.2f} c={v.containment:.2f} marks={v.marks}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("split", nargs="?", default="dev")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--shingle-words", type=int, default=None)
    ap.add_argument("--bands", type=int, default=None)
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--errors", action="store_true")
    args = ap.parse_args()
    kwargs = {k: v for k, v in (("shingle_words", args.shingle_words), ("bands", args.bands),
                                ("rows", args.rows)) if v is not None}
    result = run(args.split, batch=args.batch, hasher=Hasher(**kwargs))
    print({k: v for k, v in result.items() if k not in ("story_of", "incoming", "data")})
    if args.errors:
        print("\n".join(errors(result)))


if __name__ == "__main__":
    main()
