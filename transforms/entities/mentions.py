"""Mentions to entities: spans trimmed, short forms resolved, aliases applied, salience weighed.

Per article: mentions of PERSON, ORG, GPE, LOC, NORP, FAC and EVENT from title and body, trimmed
("the UN's" -> "UN"); spellings the alias table knows take its name and type ("UN" -> United Nations,
ORG); a short mention takes the one longest mention of its type that contains it ("Putin" -> Vladimir
Putin); case variants merge. Salience mixes mentions (relative to the article's most mentioned entity),
presence in the title and how early the body first names it. Pure functions over spaCy docs and plain
data, tested without Beam.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from transforms.entities.aliases import ENTITY_TYPES, AliasTable, alias_key

if TYPE_CHECKING:  # pragma: no cover - typing only
    from spacy.tokens import Doc

KEPT_TYPES = ENTITY_TYPES
FACETS: dict[str, tuple[str, ...]] = {
    "person": ("PERSON",),
    "org": ("ORG",),
    "location": ("GPE", "LOC", "FAC"),
    "norp": ("NORP",),
    "event": ("EVENT",),
}
STATUS_TAGGED = "tagged"

# Salience weights: how often, whether in the headline, how early in the body.
W_MENTIONS, W_TITLE, W_POSITION = 0.5, 0.3, 0.2

_LEADING = re.compile(r"^(?:the\s+|(?:mr|mrs|ms|dr)\.?\s+)", re.IGNORECASE)
_TRAILING_POSSESSIVE = re.compile(r"['\u2019]s?$")
_EDGE_PUNCT = "\"'\u2018\u2019\u201c\u201d,;:!?()[]{}<>*-\u2013\u2014/\\ \t\n"
# A final period belongs to these: "U.S.", "D.C.", "Inc.", "Jr."
_KEEPS_PERIOD = re.compile(r"(?:\b[A-Za-z]\.)+$|\b(?:Inc|Corp|Co|Ltd|Jr|Sr|St|Bros)\.$")
_LETTER = re.compile(r"[^\W\d_]")
_NOT_NAMES = {"the", "a", "an", "this", "that"}
_RUNS_ON = re.compile(r"\s+[-\u2013\u2014]\s|:\s|\s*\(")
# Offices the model keeps inside a PERSON span ("Chair Jerome Powell"); royal titles stay part of the name.
_PERSON_TITLE = re.compile(
    r"^(?:(?:vice |deputy |prime |foreign |finance |defen[cs]e )?(?:president|minister|chancellor|premier|secretary)"
    r"|chair(?:man|woman)?|governor|senator|sen\.|rep\.|mayor|judge|justice|gen(?:eral|\.)|col\.|lt\.|ambassador"
    r"|spokes(?:man|woman|person)|director|ceo|chief)\s+",
    re.IGNORECASE,
)
# "Kazakh President Kassym-Jomart Tokayev" typed as an organisation: an office (after at most two words
# of nationality or place) followed by a capitalised name is that person.
_TITLED_NAME = re.compile(
    r"^(?:[A-Z][\w\-]*\s+){0,2}?(?:President|Prime Minister|(?:Foreign |Finance |Defen[cs]e )?Minister|Chancellor"
    r"|Premier|Secretary(?:-General)?|Governor|Senator|Mayor|Spokes(?:man|woman|person)|Ambassador)\s+"
    r"(?P<name>[A-Z][\w\-'\u2019]+(?:\s+[A-Z][\w\-'\u2019]+){1,3})$"
)
_TOKEN_SPLIT = re.compile(r"[\s\-]+")


@dataclass(frozen=True)
class Mention:
    """One trimmed entity span: in the title (offset into the title) or the body."""

    text: str
    type: str
    offset: int
    in_title: bool


def trim_mention(text: str, start: int) -> tuple[str, int] | None:
    """Trim a span to its name: 'the UN Security Council,' -> 'UN Security Council'; None if nothing is left."""
    # A span running past the name: "Isis (Institute of ...", "Issam Abdallah - found", "Real Madrid: The ..."
    cut = _RUNS_ON.search(text)
    if cut and text[: cut.start()].strip(_EDGE_PUNCT):
        text = text[: cut.start()]
    while True:
        before = text
        stripped = text.lstrip(_EDGE_PUNCT + "@#")  # handles and hashtags name the same thing
        start += len(text) - len(stripped)
        text = stripped
        match = _LEADING.match(text)
        if match:
            start += match.end()
            text = text[match.end() :]
        text = _TRAILING_POSSESSIVE.sub("", text.rstrip(_EDGE_PUNCT)).rstrip(_EDGE_PUNCT)
        while text.endswith(".") and not _KEEPS_PERIOD.search(text):
            text = text[:-1].rstrip(_EDGE_PUNCT)
        if text == before:
            break
    # Names carry a capital ("eBay" too); all-lowercase spans are the model's misfires ("naira", "mm").
    if text.casefold() in _NOT_NAMES or len(_LETTER.findall(text)) < 2 or text.islower():
        return None
    return text, start


def _spans(doc: Doc) -> Iterator[tuple[str, str, int]]:
    """(text, label, start) of the kept entities, with touching spans of one label joined.

    The small model sometimes cuts a name in two ("Prince Abdulaziz" + "bin Salman");
    two entities of one label separated only by a space are one name.
    """
    # doc.text rebuilds the string from every token: read token boundaries instead.
    current: list[Any] | None = None  # [text, label, start_char, end_token]
    for ent in doc.ents:
        if ent.label_ not in KEPT_TYPES:
            continue
        if (
            current is not None
            and current[1] == ent.label_
            and current[3] == ent.start
            and doc[ent.start - 1].whitespace_ == " "
        ):
            current[0] = f"{current[0]} {ent.text}"
            current[3] = ent.end
            continue
        if current is not None:
            yield current[0], current[1], current[2]
        current = [ent.text, ent.label_, ent.start_char, ent.end]
    if current is not None:
        yield current[0], current[1], current[2]


def mentions_from_doc(doc: Doc, in_title: bool, aliases: AliasTable | None = None) -> list[Mention]:
    """Kept-type entity spans of ``doc``, trimmed; names the alias table ignores are dropped."""
    mentions = []
    for span_text, label, start in _spans(doc):
        trimmed = trim_mention(span_text, start)
        if trimmed is None:
            continue
        text, offset = trimmed
        if label in ("ORG", "GPE", "NORP", "FAC") and (titled := _TITLED_NAME.match(text)):
            label, text, offset = "PERSON", titled.group("name"), offset + titled.start("name")
        while label == "PERSON" and (match := _PERSON_TITLE.match(text)) and match.end() < len(text):
            text, offset = text[match.end() :], offset + match.end()
        if aliases is not None and aliases.ignored(text):
            continue
        mentions.append(Mention(" ".join(text.split()), label, offset, in_title))
    return mentions


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
    surfaces: Counter[str] = field(default_factory=Counter)
    order: dict[str, int] = field(default_factory=dict)
    mentions: int = 0
    first_offset: int | None = None
    in_title: bool = False

    def add(self, mention: Mention, index: int, type_: str, alias_type: str | None, canonical_spelling: bool) -> None:
        self.mentions += 1
        # Headlines mislead the model more than running text: their votes count half.
        self.types[type_] += 0.5 if mention.in_title else 1.0
        self.forced = alias_type or self.forced
        if canonical_spelling:
            self.surfaces[mention.text] += 1
            self.order.setdefault(mention.text, index)
        if mention.in_title:
            self.in_title = True
        elif self.first_offset is None or mention.offset < self.first_offset:
            self.first_offset = mention.offset

    def type(self) -> str:
        """The alias table's type, else the vote (a tie goes to PERSON, the type the model most often misses)."""
        return self.forced or max(self.types, key=lambda t: (self.types[t], t == "PERSON"))

    def display_name(self) -> str | None:
        """The spelling to index: mixed case over headline capitals, then the most frequent, then the first."""
        if not self.surfaces:
            return None
        return max(self.surfaces, key=lambda s: (not s.isupper() or len(s) <= 5, self.surfaces[s], -self.order[s]))


def resolve_entities(mentions: list[Mention], aliases: AliasTable, body_length: int) -> list[dict[str, Any]]:
    """Group mentions under canonical names and score them; sorted by salience, highest first."""
    if not mentions:
        return []
    # 1. Each mention gets a key (and a forced type when the alias table knows it).
    #    A person's name wins over the table for part of it: "Jordan" beside "Michael Jordan" is him.
    keyed: list[tuple[Mention, str, str | None]] = []  # (mention, key, alias type)
    known_keys: dict[str, set[str]] = {}  # per type: names the table gave
    alias_names: dict[str, str] = {}
    full_names = [_tokens(alias_key(m.text)) for m in mentions if m.type == "PERSON"]
    for mention in mentions:
        part_of_person = mention.type == "PERSON" and any(
            _contains(name, _tokens(alias_key(mention.text))) for name in full_names
        )
        alias = None if part_of_person else aliases.lookup(mention.text)
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
        by_type.setdefault(alias_type or mention.type, set()).add(key)
    resolution: dict[tuple[str, str], str] = {}
    for type_, forms in by_type.items():
        for short, long in _resolve_short_forms(forms, known_keys.get(type_, set())).items():
            resolution[(type_, short)] = long
    # The model sometimes types a bare surname as ORG or GPE: it still belongs to the one person it ends.
    person_surnames: dict[str, set[str]] = {}
    for form in by_type.get("PERSON", ()):
        parts = _tokens(form)
        if len(parts) > 1:
            person_surnames.setdefault(parts[-1], set()).add(resolution.get(("PERSON", form), form))

    # 3. Gather per canonical key.
    groups: dict[str, _Group] = {}
    for index, (mention, key, alias_type) in enumerate(keyed):
        type_ = alias_type or mention.type
        canonical = resolution.get((type_, key), key)
        if alias_type is None and type_ != "PERSON" and canonical == key:
            owners = person_surnames.get(key, set())
            if len(owners) == 1:
                canonical, type_ = next(iter(owners)), "PERSON"
        groups.setdefault(canonical, _Group()).add(
            mention, index, type_, alias_type, alias_key(mention.text) == canonical
        )

    # 4. Score.
    most = max(group.mentions for group in groups.values())
    entities = [
        {
            "name": alias_names.get(key) or group.display_name() or key,
            "type": group.type(),
            "mentions": group.mentions,
            "first_offset": group.first_offset,
            "in_title": group.in_title,
            "salience": salience(group.mentions, most, group.in_title, group.first_offset, body_length),
        }
        for key, group in groups.items()
    ]
    entities.sort(key=lambda e: (-e["salience"], e["first_offset"] if e["first_offset"] is not None else -1, e["name"]))
    return entities


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
