"""The tagger: language, then the text as the model should read it, the model over whole batches, then
mentions, known names, context and entities.

``Tagger`` owns the models (one per language with a pipeline) and runs a batch of (title, body) pairs through
one pass of the model per language (``greedy.pipe``: spaCy's pipeline with the greedy decoder for its NER,
the same entities for a third of the CPU); the rest is plain functions over the docs: ``casing`` (shouted lines,
datelines), ``mentions`` (the model's spans), ``gazetteer`` (names the model missed), ``rules`` (what the words
around a name say), ``resolve`` (entities). ``entities_status`` says "tagged", or "skipped: <why>" for articles
in a language without a model and articles with no text.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from transforms.article import Article
from transforms.entities.aliases import Alias, AliasTable, alias_key
from transforms.entities.casing import prepare
from transforms.entities.gazetteer import Gazetteers, TokenSpans, gazetteer_mentions
from transforms.entities.greedy import GreedyNER, decoder_for, pipe
from transforms.entities.language import SAMPLE_CHARS, detect_language
from transforms.entities.mentions import FACETS, STATUS_TAGGED, Mention, mentions_from_doc
from transforms.entities.model import DEFAULT_MODEL, MODELS, load_nlp
from transforms.entities.resolve import PLACE_TYPES, facets_of, resolve
from transforms.entities.rules import company_positions, is_sports, place_positions, team_positions

if TYPE_CHECKING:  # pragma: no cover - typing only
    from spacy.language import Language
    from spacy.tokens import Doc

log = logging.getLogger(__name__)

# Texts (titles and bodies) per model batch: 16 and 32 measured no better than 64 within the tagger.
MODEL_BATCH = 64
# New strings a pipeline's vocabulary may keep before its batches run in memory zones. Tokenizing a word
# the tokenizer has cached is about 15 times cheaper than splitting it again, and a memory zone drops the
# cache entries of every word it met first: zones from the first batch made tokenizing ~8% of the tagger's
# CPU (1.2 s of 14 s for 400 stories; 0.07 s with the words of the first batches kept). So the words of
# the first batches stay (the common ones; 20,000 strings hold a few MB), then the zones keep the
# vocabulary from growing with all a long run reads.
WARM_STRINGS = 20_000


def memory_zone(nlp: Language, base: int, warm: int = WARM_STRINGS) -> contextlib.AbstractContextManager[Any]:
    """A memory zone once ``nlp``'s vocabulary holds ``warm`` strings more than its ``base``; until then none."""
    if len(nlp.vocab.strings) - base < warm:
        return contextlib.nullcontext()
    return nlp.memory_zone()


@dataclass(frozen=True)
class _Model:
    """A loaded pipeline, the size of its vocabulary when loaded (``memory_zone``) and its decoder, if any."""

    nlp: Language
    base_strings: int
    decoder: GreedyNER | None


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


def _spans_of(mentions: list[Mention]) -> list[tuple[int, int]]:
    return [(m.offset, m.end) for m in mentions]


def _with_known_names(
    tokens: TokenSpans,
    text: str,
    in_title: bool,
    mentions: list[Mention],
    table: AliasTable,
    ignored: list[tuple[int, int]],
) -> list[Mention]:
    """``mentions`` plus the names of ``table`` the model missed, less the spans those names replace; the
    spans of ``ignored`` names ("UN Charter") are neither tagged nor replaced."""
    extra, replaced = gazetteer_mentions(tokens, text, in_title, table, _spans_of(mentions) + ignored)
    gone = set(replaced) - set(ignored)
    return [m for m in mentions if (m.offset, m.end) not in gone] + extra


def in_context(
    mentions: list[Mention],
    text: str,
    sports: bool,
    aliases: AliasTable,
    gazetteers: Gazetteers,
    datelines: list[tuple[int, int]],
) -> list[Mention]:
    """The mentions of one text with what their context says: a dateline's place; a team (a club the sports
    gazetteer knows, a country staying a place, another place becoming a team); a company; a place."""
    spans = _spans_of(mentions)
    teams = team_positions(text, spans) if sports else set()
    companies = company_positions(text, spans)
    places = place_positions(text, spans)
    out = []
    for index, mention in enumerate(mentions):
        alias = aliases.lookup(mention.text)
        if any(a <= mention.offset and mention.end <= b for a, b in datelines):
            name = alias.name if alias is not None else mention.text.title() if mention.text.isupper() else mention.text
            mention = dataclasses.replace(mention, dateline=True, override=Alias(name, "GPE"))
        elif index in teams and (alias is None or alias.type not in ("FAC", "EVENT", "PERSON")):
            club = gazetteers.sports.lookup(mention.text)
            nation = gazetteers.nations.lookup(alias.name if alias else mention.text)
            if club is not None:
                mention = dataclasses.replace(mention, override=Alias(club.name, "ORG"))
            elif nation is not None:
                mention = dataclasses.replace(mention, override=Alias(nation.name, "GPE"))
            elif mention.type in PLACE_TYPES + ("NORP",) and (alias is None or alias.type != "PERSON"):
                mention = dataclasses.replace(mention, override=Alias(mention.text, "ORG"))
        elif index in companies and (alias is None or alias.type == "ORG"):
            mention = dataclasses.replace(mention, override=Alias(alias.name if alias else mention.text, "ORG"))
        elif index in places and alias is None:
            mention = dataclasses.replace(mention, override=Alias(mention.text, places[index]))
        out.append(mention)
    return out


class Tagger:
    """Loaded models plus the alias table and gazetteers: tags (title, body) pairs, one model pass per
    language. English is loaded up front; the other languages with a model load on their first article."""

    def __init__(
        self,
        nlp: Language,
        aliases: AliasTable | None = None,
        batch_size: int = MODEL_BATCH,
        gazetteers: Gazetteers | None = None,
        warm_strings: int = WARM_STRINGS,
        greedy: bool = True,
    ):
        self.gazetteers = gazetteers if gazetteers is not None else Gazetteers.load()
        self.aliases = (aliases if aliases is not None else AliasTable.load()).over(self.gazetteers.always)
        self.batch_size = batch_size  # texts per model batch
        self.warm_strings = warm_strings
        self.greedy = greedy  # False: spaCy's own NER loop, the reference (``greedy.py``)
        self.models: dict[str, _Model] = {}
        self._add(nlp.lang, nlp)
        self.nlp = nlp  # the pipeline given: English by default

    @classmethod
    def load(cls, model: str = DEFAULT_MODEL, aliases_path: str | None = None) -> Tagger:
        return cls(load_nlp(model), AliasTable.load(aliases_path))

    def _add(self, language: str, nlp: Language) -> None:
        model = self.models[language] = _Model(nlp, len(nlp.vocab.strings), decoder_for(nlp) if self.greedy else None)
        log.info("%s: entities by %s", language, "the greedy decoder" if model.decoder else "spaCy's own NER loop")

    def _model(self, language: str) -> _Model:
        if language not in self.models:  # loaded, and verified, on the language's first article
            self._add(language, load_nlp(MODELS[language]))
        return self.models[language]

    def _status_for(self, language: str | None, title: str, body: str) -> str | None:
        """Why an article carries no entities, or None when it goes through the model."""
        if not (title.strip() or body.strip()):
            return "skipped: no text"
        if language is None:
            return "skipped: language undetermined (too little text, no feed language)"
        if language not in MODELS and language not in self.models:
            return f"skipped: language {language} has no model"
        return None

    def analyse(
        self, items: list[tuple[str, str]], hints: list[str | None] | None = None
    ) -> list[tuple[EntityResult, list[dict[str, Any]]]]:
        """Each (title, body) pair's result and its mentions (start, end, text, type, entity, field)."""
        hints = hints or [None] * len(items)
        out: list[Any] = [None] * len(items)
        batches: dict[str, list[int]] = {}
        prepared: dict[int, tuple[str, str, list[tuple[int, int]]]] = {}
        for index, ((title, body), hint) in enumerate(zip(items, hints, strict=True)):
            title, body = title or "", body or ""
            language, _ = detect_language(f"{title}\n{body[:SAMPLE_CHARS]}", hint, tuple(MODELS))
            status = self._status_for(language, title, body)
            if status is not None:
                out[index] = (EntityResult(language, status), [])
                continue
            batches.setdefault(language, []).append(index)
            prepared[index] = prepare(title, body, self.aliases.spelling)
        for language, indices in batches.items():
            model = self._model(language)
            nlp = model.nlp
            texts = [t for i in indices for t in (prepared[i][0], prepared[i][1][: nlp.max_length])]
            # Past the first batches (WARM_STRINGS), the strings and words of a batch leave the vocabulary with it:
            # without the zone the vocabulary keeps every number and name ever read, and a long run's memory grows
            # with what it tagged. No Doc, Span or Token outlives the zone: entities_of returns plain data.
            with memory_zone(nlp, model.base_strings, self.warm_strings):
                docs = pipe(nlp, texts, self.batch_size, model.decoder)
                for i in indices:
                    title, body = (items[i][0] or ""), (items[i][1] or "")
                    out[i] = self.entities_of(next(docs), next(docs), title, body[: nlp.max_length],
                                              prepared[i][2], language)
        return out

    def entities_of(
        self, title_doc: Doc, body_doc: Doc, title: str, body: str, datelines: list[tuple[int, int]], language: str
    ) -> tuple[EntityResult, list[dict[str, Any]]]:
        """One article's result and mentions from the docs of its prepared title and body."""
        sports = is_sports(title, body)
        texts = [(title_doc, title, True, []), (body_doc, body, False, datelines)]
        found: list[list[Mention]] = []
        scans: list[tuple[TokenSpans, list[tuple[int, int]]]] = []
        for doc, text, in_title, _ in texts:
            ignored: list[tuple[int, int]] = []
            mentions = mentions_from_doc(doc, in_title, self.aliases, text, ignored)
            tokens = TokenSpans(doc, text)
            mentions = _with_known_names(tokens, text, in_title, mentions, self.aliases, ignored)
            if sports:  # teams the model missed, where they stand as teams
                extra, _ = gazetteer_mentions(tokens, text, in_title, self.gazetteers.sports, _spans_of(mentions))
                teams = team_positions(text, _spans_of(extra))
                mentions += [m for i, m in enumerate(extra) if i in teams]
            found.append(mentions)
            scans.append((tokens, ignored))
        # A name the article tags once is the same name where the model missed it (a headline, a table).
        seen = AliasTable({alias_key(m.text): Alias(m.text, m.type) for ms in found for m in ms if len(m.text) > 2})
        mentions = []
        for (_, text, in_title, lines), own, (tokens, ignored) in zip(texts, found, scans, strict=True):
            own = _with_known_names(tokens, text, in_title, own, seen, ignored)
            own.sort(key=lambda m: m.offset)
            mentions += in_context(own, text, sports, self.aliases, self.gazetteers, lines)
        entities, members = resolve(mentions, self.aliases, len(texts[1][1]))
        details = [
            {
                "start": m.offset,
                "end": m.end,
                "text": m.text,
                "type": entities[e]["type"],
                "entity": entities[e]["name"],
                "field": "title" if m.in_title else "text",
            }
            for m, e in zip(mentions, members, strict=True)
        ]
        details.sort(key=lambda d: (d["field"] != "title", d["start"]))
        return EntityResult(language, STATUS_TAGGED, entities, facets_of(entities)), details

    def tag_many(self, items: list[tuple[str, str]], hints: list[str | None] | None = None) -> list[EntityResult]:
        """Tag (title, body) pairs; ``hints`` are the feeds' languages."""
        return [result for result, _ in self.analyse(items, hints)]

    def tag_mentions(
        self, items: list[tuple[str, str]], hints: list[str | None] | None = None
    ) -> list[list[dict[str, Any]]]:
        """Every mention of each (title, body) pair, in order, with the entity it belongs to."""
        return [mentions for _, mentions in self.analyse(items, hints)]

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


def score_facets(expected: dict[str, list[str]], facets: dict[str, list[str]]) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) of one article's facets against labels."""
    tp = fp = fn = 0
    for facet in FACETS:
        want, got = set(expected.get(facet) or ()), set(facets.get(facet) or ())
        tp, fp, fn = tp + len(want & got), fp + len(got - want), fn + len(want - got)
    return tp, fp, fn
