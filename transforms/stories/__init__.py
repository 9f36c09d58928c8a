"""Stories: the copies of one wire story across feeds, portals and runs, grouped under one ``story.id``.

Plain entry points: ``Hasher`` (MinHash signature and LSH band keys of a
cleaned body), ``compare`` with ``MatchRules`` (is a candidate a copy),
``assign`` and ``settle`` (the story id rule).
"""

from transforms.stories.assign import Assignment, Incoming, Member, assign, settle
from transforms.stories.match import MatchRules, Verdict, compare
from transforms.stories.signature import SIGNATURE_VERSION, Hasher, Signature

__all__ = ["SIGNATURE_VERSION", "Assignment", "Hasher", "Incoming", "MatchRules", "Member", "Signature",
           "Verdict", "assign", "compare", "settle"]
