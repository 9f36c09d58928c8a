"""Enrich: language detection and named entities, with canonical names and salience.

The pure part turns spaCy docs into plain lists and dicts (``mentions_from_doc``,
``resolve_entities``, ``build_result``) and is tested without Beam; ``Tagger`` owns
the model and runs whole batches through one ``nlp.pipe``; ``TagEntities`` is the
thin DoFn that buffers articles into those batches.

Per article: mentions of PERSON, ORG, GPE, LOC, NORP, FAC and EVENT from title and body, trimmed
("the UN's" -> "UN"); spellings the alias table knows take its name and type ("UN" -> United Nations,
ORG); a short mention takes the one longest mention of its type that contains it ("Putin" -> Vladimir
Putin); case variants merge. Salience mixes mentions (relative to the article's most mentioned entity),
presence in the title and how early the body first names it. ``entities_status`` says "tagged", or
"skipped: <why>" for articles in a language without a model and articles with no text.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import apache_beam as beam
from apache_beam.utils.windowed_value import WindowedValue

from transforms.aliases import ENTITY_TYPES, AliasTable, alias_key
from transforms.article import Article
from transforms.language import SAMPLE_CHARS, detect_language
from transforms.nlp_model import DEFAULT_MODEL, ModelIntegrityError, load_nlp
from transforms.process_exit import freeze_for_exit

if TYPE_CHECKING:  # pragma: no cover - typing only
    from spacy.tokens import Doc

__all__ = [
    "FACETS",
    "KEPT_TYPES",
    "EntityResult",
    "Mention",
    "ModelIntegrityError",
    "TagEntities",
    "Tagger",
    "apply_entities",
    "build_result",
    "load_nlp",
    "mentions_from_doc",
    "resolve_entities",
    "salience",
    "score_facets",
    "trim_mention",
]

log = logging.getLogger(__name__)

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


@dataclass
class EntityResult:
    """One article's tagging. Each entity: name, type, mentions (title and body), first_offset (characters
    into the body; None when only the title names it), in_title, salience (0..1)."""

    language: str | None
    status: str  # "tagged" | "skipped: ..."
    entities: list[dict[str, Any]] = field(default_factory=list)
    facets: dict[str, list[str]] = field(default_factory=lambda: {name: [] for name in FACETS})

    def to_json(self) -> dict[str, Any]:
        """The ``wirenews tag`` output."""
        return {"language": self.language, "status": self.status, "entities": self.entities}


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


def build_result(
    title_doc: Doc | None, body_doc: Doc | None, language: str | None, aliases: AliasTable
) -> EntityResult:
    """One article's EntityResult from its title and body docs."""
    mentions: list[Mention] = []
    if title_doc is not None:
        mentions += mentions_from_doc(title_doc, True, aliases)
    if body_doc is not None:
        mentions += mentions_from_doc(body_doc, False, aliases)
    body_length = body_doc[-1].idx + len(body_doc[-1].text_with_ws) if body_doc is not None and len(body_doc) else 0
    entities = resolve_entities(mentions, aliases, body_length)
    return EntityResult(language, STATUS_TAGGED, entities, facets_of(entities))


class Tagger:
    """A loaded model plus the alias table: tags (title, body) pairs in one ``nlp.pipe`` pass."""

    def __init__(self, nlp, aliases: AliasTable | None = None, batch_size: int = 64):
        self.nlp = nlp
        self.aliases = aliases if aliases is not None else AliasTable.load()
        self.batch_size = batch_size
        self.language = nlp.lang

    @classmethod
    def load(cls, model: str = DEFAULT_MODEL, aliases_path: str | None = None) -> Tagger:
        return cls(load_nlp(model), AliasTable.load(aliases_path))

    def _status_for(self, language: str | None, title: str, body: str) -> str | None:
        """Why an article carries no entities, or None when it goes through the model."""
        if not (title.strip() or body.strip()):
            return "skipped: no text"
        if language is None:
            return "skipped: language undetermined (too little text, no feed language)"
        if language != self.language:
            return f"skipped: language {language} has no model"
        return None

    def tag_many(self, items: list[tuple[str, str]], hints: list[str | None] | None = None) -> list[EntityResult]:
        """Tag (title, body) pairs; ``hints`` (feed languages) only decide for texts too short to detect."""
        hints = hints or [None] * len(items)
        languages: list[str | None] = []
        skipped: dict[int, EntityResult] = {}
        texts: list[str] = []
        for index, ((title, body), hint) in enumerate(zip(items, hints, strict=True)):
            title, body = title or "", body or ""
            language, _ = detect_language(f"{title}\n{body[:SAMPLE_CHARS]}", hint)
            languages.append(language)
            status = self._status_for(language, title, body)
            if status is None:
                texts += [title, body[: self.nlp.max_length]]
            else:
                skipped[index] = EntityResult(language, status)
        docs: Iterator[Doc] = iter(self.nlp.pipe(texts, batch_size=self.batch_size))
        return [
            skipped[index] if index in skipped else build_result(next(docs), next(docs), languages[index], self.aliases)
            for index in range(len(items))
        ]

    def tag(self, title: str, body: str) -> EntityResult:
        return self.tag_many([(title, body)])[0]


def apply_entities(article: Article, result: EntityResult) -> Article:
    """A copy of ``article`` with language, entity facets plus details, and status set (inputs stay unmutated)."""
    return dataclasses.replace(
        article,
        language=result.language,
        entities={**result.facets, "details": result.entities},
        entities_status=result.status,
    )


class TagEntities(beam.DoFn):
    """Tags Articles in batches of ``batch_size``; the model loads in ``setup``, once per DoFn instance
    (Beam keeps one per worker thread and reuses it across bundles), and what is left flushes in
    ``finish_bundle`` with each article's own timestamp and window."""

    def __init__(self, model: str = DEFAULT_MODEL, aliases_path: str | None = None, batch_size: int = 64):
        self._model = model
        self._aliases_path = aliases_path
        self._batch_size = batch_size
        self._tagger: Tagger | None = None
        self._pending: list[tuple[Article, Any, Any]] = []

    def setup(self) -> None:
        # Loaded once per worker, on the first article to tag: a poll where nothing changed costs no model load.
        self._tagger: Tagger | None = None
        self._tagged = beam.metrics.Metrics.counter("entities", "tagged")
        self._skipped = beam.metrics.Metrics.counter("entities", "skipped")

    def start_bundle(self) -> None:
        self._pending = []

    def teardown(self) -> None:
        freeze_for_exit()  # a worker process ends next: let it exit without collecting the model

    def process(self, article: Article, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam):
        self._pending.append((article, timestamp, window))
        if len(self._pending) >= self._batch_size:
            yield from self._flush()

    def finish_bundle(self):
        yield from self._flush()

    def _flush(self) -> Iterator[WindowedValue]:
        pending, self._pending = self._pending, []
        if not pending:
            return
        if self._tagger is None:
            self._tagger = Tagger.load(self._model, self._aliases_path)
            self._tagger.batch_size = self._batch_size
        results = self._tagger.tag_many(
            [(article.title, article.text) for article, _, _ in pending],
            hints=[article.language_hint for article, _, _ in pending],
        )
        for (article, timestamp, window), result in zip(pending, results, strict=True):
            (self._tagged if result.status == STATUS_TAGGED else self._skipped).inc()
            yield WindowedValue(apply_entities(article, result), timestamp, [window])


def score_facets(expected: dict[str, list[str]], facets: dict[str, list[str]]) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) of one article's facets against labels."""
    tp = fp = fn = 0
    for facet in FACETS:
        want, got = set(expected.get(facet) or ()), set(facets.get(facet) or ())
        tp, fp, fn = tp + len(want & got), fp + len(got - want), fn + len(want - got)
    return tp, fp, fn
