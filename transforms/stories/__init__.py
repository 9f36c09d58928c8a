"""Stories: the copies of one wire story across feeds, portals and runs, grouped under one ``story.id``.

The public PTransform is ``AssignStories`` (after skip-unchanged, before the
entity stage). Plain entry points: ``Hasher`` (MinHash signature and LSH band
keys of a cleaned body), ``compare`` with ``MatchRules`` (is a candidate a
copy), ``assign`` and ``settle`` (the story id rule), ``StoryStore`` (the
lookup in Elasticsearch that places a batch).
"""

from typing import Any

from transforms.stories.assign import Assignment, Incoming, Member, assign, settle
from transforms.stories.match import MatchRules, Verdict, compare
from transforms.stories.signature import SIGNATURE_VERSION, Hasher, Signature
from transforms.stories.store import Arrival, Placement, StoryStore

__all__ = ["SIGNATURE_VERSION", "Arrival", "AssignStories", "Assignment", "Hasher", "Incoming", "MatchRules",
           "Member", "Placement", "Signature", "StoryStore", "Verdict", "assign", "compare", "settle"]


def __getattr__(name: str) -> Any:
    if name == "AssignStories":  # Beam's import (seconds) only for those who build a pipeline
        from transforms.stories.transform import AssignStories

        return AssignStories
    raise AttributeError(name)
