"""Mentions to entities: short forms resolved, aliases and context applied, types agreed, salience weighed.

A short mention takes the one longest mention of its type that contains it ("Putin" -> Vladimir Putin); a bare
surname or family name the model typed otherwise still belongs to the one person it names ("Wang" beside
"Wang Yi"); spellings the alias table knows take its name and type; what a mention's context says (a team, a
company) outweighs both; every mention of an entity takes the entity's one type. A dateline's place is a
place, and stays apart from a team of the same name. Salience mixes mentions (relative to the article's most
mentioned entity), presence in the title and how early the body first names it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from transforms.entities.aliases import AliasTable, alias_key
from transforms.entities.mentions import FACETS, Mention

# Salience weights: how often, whether in the headline, how early in the body.
W_MENTIONS, W_TITLE, W_POSITION = 0.5, 0.3, 0.2
PLACE_TYPES = ("GPE", "LOC", "FAC")
_TOKEN_SPLIT = re.compile(r"[\s\-]+")


def _tokens(key: str) -> tuple[str, ...]:
    return tuple(t for t in _TOKEN_SPLIT.split(key) if t)


def _contains(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    n = len(shorter)
    return len(longer) > n and any(longer[i : i + n] == shorter for i in range(len(longer) - n + 1))


def _resolve_short_forms(forms: set[str], known: set[str]) -> dict[str, str]:
    """Map each short form to the single longest form that contains it ('xi' -> 'xi jinping').

    A form found in the alias table is a name of its own and never resolved; a form
    contained in two unrelated longer forms ('kim' in two Kims) is ambiguous and kept.
    """
    tokens = {form: _tokens(form) for form in forms}
    resolved: dict[str, str] = {}
    for form in forms:
        if form in known:
            continue
        containers = [other for other in forms if _contains(tokens[other], tokens[form])]
        maximal = {c for c in containers if not any(_contains(tokens[o], tokens[c]) for o in containers)}
        if len(maximal) == 1:
            resolved[form] = maximal.pop()
    return resolved


@dataclass
class _Group:
    """The mentions gathered under one canonical name."""

    types: Counter[str] = field(default_factory=Counter)
    forced: str | None = None
    context: str | None = None
    surfaces: Counter[str] = field(default_factory=Counter)
    order: dict[str, int] = field(default_factory=dict)
    mentions: int = 0
    first_offset: int | None = None
    in_title: bool = False

    def add(self, mention: Mention, index: int, type_: str, alias_type: str | None, canonical_spelling: bool) -> None:
        self.mentions += 1
        # Headlines mislead the model more than running text: their votes count half.
        self.types[type_] += 0.5 if mention.in_title else 1.0
        if mention.override is not None:
            self.context = mention.override.type
        self.forced = alias_type or self.forced
        if canonical_spelling:
            self.surfaces[mention.text] += 1
            self.order.setdefault(mention.text, index)
        if mention.in_title:
            self.in_title = True
        elif self.first_offset is None or mention.offset < self.first_offset:
            self.first_offset = mention.offset

    def type(self) -> str:
        """What the context says, else the alias table's type, else the vote (a tie goes to PERSON, the type the
        model most often misses)."""
        return self.context or self.forced or max(self.types, key=lambda t: (self.types[t], t == "PERSON"))

    def display_name(self) -> str | None:
        """The spelling to index: mixed case over headline capitals, then the most frequent, then the first."""
        if not self.surfaces:
            return None
        return max(self.surfaces, key=lambda s: (not s.isupper() or len(s) <= 5, self.surfaces[s], -self.order[s]))


def resolve_entities(mentions: list[Mention], aliases: AliasTable, body_length: int) -> list[dict[str, Any]]:
    """Group mentions under canonical names and score them; sorted by salience, highest first."""
    return resolve(mentions, aliases, body_length)[0]


def _person(mention: Mention, aliases: AliasTable) -> bool:
    """The model's PERSON, unless the context or the alias table says otherwise ("Barrick Gold")."""
    if mention.type != "PERSON":
        return False
    known = mention.override or aliases.lookup(mention.text)
    return known is None or known.type == "PERSON"


def resolve(
    mentions: list[Mention], aliases: AliasTable, body_length: int
) -> tuple[list[dict[str, Any]], list[int]]:
    """Entities sorted by salience, and for each mention the index of the entity it belongs to."""
    if not mentions:
        return [], []
    # 1. Each mention gets a key (and a forced type when its context or the alias table knows it).
    #    A person's name wins over the table for part of it: "Jordan" beside "Michael Jordan" is him.
    keyed: list[tuple[Mention, str, str | None]] = []  # (mention, key, alias type)
    known_keys: dict[str, set[str]] = {}  # per type: names the table gave
    alias_names: dict[str, str] = {}
    full_names = [_tokens(alias_key(m.text)) for m in mentions if _person(m, aliases)]
    for mention in mentions:
        part_of_person = mention.type == "PERSON" and any(
            _contains(name, _tokens(alias_key(mention.text))) for name in full_names
        )
        alias = mention.override or (None if part_of_person else aliases.lookup(mention.text))
        if alias is not None:
            key = alias_key(alias.name)
            known_keys.setdefault(alias.type, set()).add(key)
            alias_names[key] = alias.name
            keyed.append((mention, key, alias.type))
        else:
            keyed.append((mention, alias_key(mention.text), None))

    # 2. Short forms resolve to the longest compatible form of the same type.
    by_type: dict[str, set[str]] = {}
    for mention, key, alias_type in keyed:
        if not mention.dateline:
            by_type.setdefault(alias_type or mention.type, set()).add(key)
    resolution: dict[tuple[str, str], str] = {}
    for type_, forms in by_type.items():
        for short, long in _resolve_short_forms(forms, known_keys.get(type_, set())).items():
            resolution[(type_, short)] = long
    # The model sometimes types a bare surname (or a family name written first: "Wang" beside "Wang Yi") as ORG
    # or GPE: it still belongs to the one person it names.
    # (A first word only for ORG: "Jordan" typed GPE beside "Jordan Peterson" is more likely the country.)
    person_parts: dict[tuple[str, bool], set[str]] = {}  # (word, is the first word) -> persons
    for form in by_type.get("PERSON", ()):
        parts = _tokens(form)
        if len(parts) > 1:
            for part, first in ((parts[0], True), (parts[-1], False)):
                person_parts.setdefault((part, first), set()).add(resolution.get(("PERSON", form), form))

    # 3. Gather per canonical key; a dateline's place makes its name's entity a place, unless the context made
    #    that a team.
    groups: dict[str, _Group] = {}
    members: list[str] = [""] * len(keyed)
    datelines = []
    for index, (mention, key, alias_type) in enumerate(keyed):
        if mention.dateline:
            datelines.append(index)
            continue
        type_ = alias_type or mention.type
        canonical = resolution.get((type_, key), key)
        if alias_type is None and type_ != "PERSON" and canonical == key:
            owners = person_parts.get((key, False), set())
            if not owners and type_ == "ORG":
                owners = person_parts.get((key, True), set())
            if len(owners) == 1:
                canonical, type_ = next(iter(owners)), "PERSON"
        groups.setdefault(canonical, _Group()).add(
            mention, index, type_, alias_type, alias_key(mention.text) == canonical
        )
        members[index] = canonical
    for index in datelines:
        mention, key, _ = keyed[index]
        group = groups.get(key)
        if group is not None and group.context is not None and group.context not in PLACE_TYPES:
            key = f"{key}\x00dateline"  # the club of the same name stays an entity of its own
        groups.setdefault(key, _Group()).add(mention, index, "GPE", "GPE", True)
        members[index] = key

    # 4. Score.
    most = max(group.mentions for group in groups.values())
    entities = [
        {
            "name": alias_names.get(key.split("\x00")[0]) or group.display_name() or key,
            "type": group.type(),
            "mentions": group.mentions,
            "first_offset": group.first_offset,
            "in_title": group.in_title,
            "salience": salience(group.mentions, most, group.in_title, group.first_offset, body_length),
        }
        for key, group in groups.items()
    ]
    order = sorted(
        range(len(entities)),
        key=lambda i: (
            -entities[i]["salience"],
            entities[i]["first_offset"] if entities[i]["first_offset"] is not None else -1,
            entities[i]["name"],
        ),
    )
    position = {key: order.index(i) for i, key in enumerate(groups)}
    return [entities[i] for i in order], [position[key] for key in members]


def salience(mentions: int, most: int, in_title: bool, first_offset: int | None, body_length: int) -> float:
    """0..1: share of the article's most frequent entity's mentions, headline presence, how early in the body."""
    position = 1.0 if first_offset is None else 1.0 - first_offset / max(body_length, 1)
    score = W_MENTIONS * mentions / max(most, 1) + W_TITLE * in_title + W_POSITION * max(position, 0.0)
    return round(score, 4)


def facets_of(entities: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
    """Keyword arrays for Kibana, in salience order."""
    facets: dict[str, list[str]] = {name: [] for name in FACETS}
    facet_of_type = {type_: facet for facet, types in FACETS.items() for type_ in types}
    for entity in entities:
        values = facets[facet_of_type[entity["type"]]]
        if entity["name"] not in values:
            values.append(entity["name"])
    return facets
