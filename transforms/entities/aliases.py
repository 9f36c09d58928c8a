"""The editable alias table: many spellings of an entity -> one canonical name and type.

Declared in YAML (``configs/aliases.yaml``) rather than coded, so that an editor can add
"Kyiv"/"Kiev" without touching Python. Lookups ignore case, periods, a leading "the"
and a possessive, so "U.N.", "UN" and "the UN's" all find "United Nations".
"""

from __future__ import annotations

import functools
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from transforms.resources import config_path

log = logging.getLogger(__name__)

ENTITY_TYPES = ("PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT")
ALIASES_ENV = "WIRENEWS_ALIASES"
DEFAULT_ALIASES_PATH = config_path("aliases.yaml")

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2013": "-", "\u2014": "-"})
_LEADING_THE = re.compile(r"^the\s+")
_POSSESSIVE = re.compile(r"'s?$")
_SPACES = re.compile(r"\s+")


@functools.lru_cache(maxsize=1 << 16)
def alias_key(text: str) -> str:
    """The form two spellings share when they name the same thing: 'The U.N.’s' -> 'un'.

    Cached: a news stream repeats the same few thousand names all day.
    """
    key = text.translate(_QUOTES).casefold().strip()
    key = _LEADING_THE.sub("", key)
    key = _POSSESSIVE.sub("", key)
    key = key.replace(".", "")
    return _SPACES.sub(" ", key).strip()


@dataclass(frozen=True)
class Alias:
    name: str
    type: str


class AliasTable:
    """Variant -> Alias lookups, plus names to drop outright (known false positives)."""

    def __init__(self, entries: dict[str, Alias] | None = None, ignore: set[str] | None = None):
        self._entries = dict(entries or {})
        self._ignore = set(ignore or ())

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, text: str) -> Alias | None:
        return self._entries.get(alias_key(text))

    def ignored(self, text: str) -> bool:
        return alias_key(text) in self._ignore

    @classmethod
    def empty(cls) -> AliasTable:
        return cls()

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<dict>") -> AliasTable:
        """Build from ``{TYPE: {canonical: [variants]}, "ignore": [names]}``; conflicts are errors."""
        entries: dict[str, Alias] = {}
        ignore = {alias_key(name) for name in (data.get("ignore") or [])}
        for type_, names in data.items():
            if type_ == "ignore":
                continue
            if type_ not in ENTITY_TYPES:
                raise ValueError(f"{source}: unknown entity type {type_!r} (expected one of {', '.join(ENTITY_TYPES)})")
            for name, variants in (names or {}).items():
                alias = Alias(str(name), type_)
                for variant in [name, *(variants or [])]:
                    key = alias_key(str(variant))
                    previous = entries.get(key)
                    if previous is not None and previous != alias:
                        raise ValueError(
                            f"{source}: {variant!r} maps to both {previous.name} ({previous.type}) "
                            f"and {alias.name} ({alias.type})"
                        )
                    entries[key] = alias
        return cls(entries, ignore)

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> AliasTable:
        """Read the table from ``path``, else ``$WIRENEWS_ALIASES``, else configs/aliases.yaml."""
        resolved = Path(path or os.environ.get(ALIASES_ENV) or DEFAULT_ALIASES_PATH)
        with resolved.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{resolved}: expected a mapping of entity types to names")
        table = cls.from_dict(data, source=str(resolved))
        log.info("loaded %d entity aliases from %s", len(table), resolved)
        return table
