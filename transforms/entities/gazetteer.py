"""Curated names and their types (configs/gazetteers/*.yaml), and the scan that finds known names in a text.

Each file has the alias table's shape plus ``context`` (``always`` or ``sports``) and an optional
``role: nations``. ``always`` names act like aliases of lower rank: the alias table wins where both know a
name. ``sports`` names are teams only where the context rules find them standing as a team. ``nations`` are the
countries a team may be written as and stay a place. ``gazetteer_mentions`` finds a table's names in a doc where
the model missed them or cut them short.
"""

from __future__ import annotations

import bisect
import functools
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from transforms.entities.aliases import AliasTable, alias_key
from transforms.entities.mentions import Mention
from transforms.resources import config_path

if TYPE_CHECKING:  # pragma: no cover - typing only
    from spacy.tokens import Doc

log = logging.getLogger(__name__)

GAZETTEERS_ENV = "WIRENEWS_GAZETTEERS"
DEFAULT_GAZETTEERS_DIR = config_path("gazetteers")
CONTEXTS = ("always", "sports")
_FIRST_WORD = re.compile(r"[ \-']")
_POSSESSIVES = ("'s", "\u2019s", "'", "\u2019")


@dataclass(frozen=True)
class Gazetteers:
    always: AliasTable
    sports: AliasTable
    nations: AliasTable

    @classmethod
    def empty(cls) -> Gazetteers:
        return cls(AliasTable.empty(), AliasTable.empty(), AliasTable.empty())

    @classmethod
    def load(cls, directory: str | os.PathLike[str] | None = None) -> Gazetteers:
        """Every ``*.yaml`` of ``directory``, else ``$WIRENEWS_GAZETTEERS``, else configs/gazetteers."""
        resolved = Path(directory or os.environ.get(GAZETTEERS_ENV) or DEFAULT_GAZETTEERS_DIR)
        merged: dict[str, dict[str, dict[str, list[Any]]]] = {"always": {}, "sports": {}, "nations": {}}
        for path in sorted(resolved.glob("*.yaml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            if not isinstance(data, dict):
                raise ValueError(f"{path}: expected a mapping of entity types to names")
            context = data.get("context", "always")
            if context not in CONTEXTS:
                raise ValueError(f"{path}: context must be one of {', '.join(CONTEXTS)}, not {context!r}")
            targets = [context] + (["nations"] if data.get("role") == "nations" else [])
            for type_, names in data.items():
                if type_ in AliasTable.NOT_TYPES:
                    continue
                if not isinstance(names, dict):
                    raise ValueError(f"{path}: {type_} must map names to lists of variants")
                for target in targets:
                    section = merged[target].setdefault(type_, {})
                    for name, variants in names.items():
                        section.setdefault(str(name), []).extend(variants or [])
        tables = {key: AliasTable.from_dict(data, source=f"{resolved} ({key})") for key, data in merged.items()}
        log.info("loaded gazetteers from %s: %s", resolved, ", ".join(f"{k} {len(t)}" for k, t in tables.items()))
        return cls(tables["always"], tables["sports"], tables["nations"])


@functools.lru_cache(maxsize=1 << 16)
def _first_word(token: str) -> str:
    return _FIRST_WORD.split(alias_key(token), maxsplit=1)[0]


class TokenSpans:
    """Where each token of a doc starts and ends, whether it can end a name, and which tokens start with a
    capital: read once per doc (made from ``text`` or a same-length copy of it) for every scan of it."""

    def __init__(self, doc: Doc, text: str) -> None:
        from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, LENGTH

        rows = doc.to_array([IDX, LENGTH, IS_PUNCT, IS_SPACE]).tolist() if len(doc) else []
        self.starts = [row[0] for row in rows]
        self.ends = [start + length for start, length, _, _ in rows]
        self.bad_end = [
            bool(space) or bool(punct) and text[start : start + length] != ")"
            or text[start : start + length] in _POSSESSIVES
            for start, length, punct, space in rows
        ]
        self.capitalised = [i for i, start in enumerate(self.starts) if text[start : start + 1].isupper()]


def gazetteer_mentions(
    tokens: TokenSpans, text: str, in_title: bool, table: AliasTable, taken: list[tuple[int, int]]
) -> tuple[list[Mention], list[tuple[int, int]]]:
    """Names ``table`` knows that the model missed or cut short, and the spans in ``taken`` they replace.

    At each capitalised token, the longest run of tokens the table knows, not starting with "the" nor ending on
    punctuation, that overlaps no span of ``taken`` other than ones it contains whole ("South African" over the
    model's "African").
    """
    found: list[Mention] = []
    replaced: list[tuple[int, int]] = []
    if not table.widths:
        return found, replaced
    starts, ends, bad_end = tokens.starts, tokens.ends, tokens.bad_end
    owner: dict[int, int] = {}  # token -> the taken span it is in
    for number, (a, b) in enumerate(taken):
        i = bisect.bisect_left(starts, a)
        while i < len(starts) and starts[i] < b:
            owner[i] = number
            i += 1
    count = len(starts)
    after = -1  # a found name's last token: the next one starts after it
    for index in tokens.capitalised:
        if index <= after:
            continue
        start = starts[index]
        widest = table.widths.get(_first_word(text[start : ends[index]]), 0)
        if not widest or index in owner and taken[owner[index]][0] < start:
            continue
        for width in range(min(widest, count - index), 0, -1):
            last = index + width - 1
            if bad_end[last]:
                continue
            end = ends[last]
            inside = {owner[i] for i in range(index, last + 1) if i in owner}
            if any(taken[n][1] > end or taken[n] == (start, end) for n in inside):
                continue
            name = text[start:end]
            alias = table.lookup(name)
            if alias is not None and not table.ignored(name):
                found.append(Mention(name, alias.type, start, in_title, end))
                replaced += [taken[n] for n in inside]
                after = last
                break
    return found, replaced
