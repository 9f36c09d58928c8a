"""The tagger: language detection, then the model over whole batches, then mentions to entities.

``Tagger`` owns the model and runs a batch of (title, body) pairs through one ``nlp.pipe``; the rest
(``mentions``) is plain functions over the docs. ``entities_status`` says "tagged", or "skipped: <why>"
for articles in a language without a model and articles with no text.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from transforms.article import Article
from transforms.entities.aliases import AliasTable
from transforms.entities.language import SAMPLE_CHARS, detect_language
from transforms.entities.mentions import (
    FACETS,
    STATUS_TAGGED,
    Mention,
    facets_of,
    mentions_from_doc,
    resolve_entities,
)
from transforms.entities.model import DEFAULT_MODEL, load_nlp

if TYPE_CHECKING:  # pragma: no cover - typing only
    from spacy.tokens import Doc

log = logging.getLogger(__name__)

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


def score_facets(expected: dict[str, list[str]], facets: dict[str, list[str]]) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) of one article's facets against labels."""
    tp = fp = fn = 0
    for facet in FACETS:
        want, got = set(expected.get(facet) or ()), set(facets.get(facet) or ())
        tp, fp, fn = tp + len(want & got), fp + len(got - want), fn + len(want - got)
    return tp, fp, fn
