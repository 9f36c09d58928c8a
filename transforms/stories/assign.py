"""The story id rule, as a pure function over one batch and what the store returned for it.

- An article already in a story (a later version of a wire story, a re-run)
  keeps that story: versions of one wire story share its id.
- Otherwise it joins the earliest story it is a copy of: of the stored ones,
  the one founded first in the store; an article earlier in the same batch
  counts too, after all stored ones.
- An article that is a copy of nothing founds a story, whose id is the
  article's own id (the ``_id`` of the story's first document).

The batch is taken in the order (published, else first seen; then id), so
the outcome depends on the batch's content, not on the order a runner
delivered it in, and of copies met in one run the one published first
founds the story (a portal's copy is published after the agency's).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from transforms.stories.match import DEFAULT_RULES, MatchRules, compare
from transforms.stories.signature import Signature


@dataclass(frozen=True)
class Incoming:
    """An article to place: its id, when it was first seen (and published), its signature and band keys."""

    article_id: str
    first_seen_at: str
    signature: Signature
    keys: tuple[str, ...]
    published_at: str | None = None

    @property
    def sort_key(self) -> tuple[str, str]:
        return (self.published_at or self.first_seen_at or "", self.article_id)


@dataclass(frozen=True)
class Member:
    """A stored member of a story, as a lookup returned it."""

    article_id: str
    story_id: str
    signature: Signature
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Assignment:
    article_id: str
    story_id: str
    founded: bool  # the article founded its story in this batch
    known: bool = False  # the article was a member already (a version, a re-run)
    matched: tuple[str, ...] = field(default=())  # the stories it is a copy of


def assign(batch: Sequence[Incoming], known: dict[str, str], candidates: dict[str, list[Member]],
           order: Callable[[str], object], rules: MatchRules = DEFAULT_RULES) -> list[Assignment]:
    """Assignments in batch order.

    ``known``: article id -> its stored story; ``candidates``: article id -> stored members sharing a
    band key with it; ``order``: the sort key of a stored story (smaller = founded earlier).
    """
    placed: list[tuple[Incoming, str]] = []
    out: dict[str, Assignment] = {}
    for inc in sorted(batch, key=lambda i: i.sort_key):
        if inc.article_id in out:
            continue
        if inc.article_id in known:
            story = known[inc.article_id]
            out[inc.article_id] = Assignment(inc.article_id, story, False, True, (story,))
            placed.append((inc, story))
            continue
        stored = {m.story_id for m in candidates.get(inc.article_id, ())
                  if m.article_id != inc.article_id and compare(inc.signature, m.signature, rules).copy}
        keys = set(inc.keys)
        batch_stories = [story for other, story in placed
                         if keys.intersection(other.keys) and compare(inc.signature, other.signature, rules).copy]
        if stored:
            story = min(stored, key=lambda s: (order(s), s))
        elif batch_stories:
            story = batch_stories[0]  # placed in batch order: the earliest
        else:
            story = inc.article_id
        matched = tuple(sorted(stored)) + tuple(dict.fromkeys(s for s in batch_stories if s not in stored))
        out[inc.article_id] = Assignment(inc.article_id, story, story == inc.article_id, False, matched)
        placed.append((inc, story))
    return [out[i.article_id] for i in batch]


def settle(own: str, matched: Sequence[str], order: Callable[[str], object]) -> str:
    """After the batch's members are stored and visible: the story to keep, of ``own`` and those matched.

    ``order`` is the store's write order of the stories' founders. A founder that did not see a story
    founded at the same moment on another worker wrote before it; the one that sees both picks the
    earlier, so both end on the same story.
    """
    return min({own, *matched}, key=lambda s: (order(s), s))
