"""Stage 5, enrich: language, named entities with canonical names, mentions and salience."""

from __future__ import annotations

from typing import Any

from transforms.entities.tagger import EntityResult, Tagger, apply_entities

__all__ = ["EntityResult", "TagEntities", "Tagger", "apply_entities"]


def __getattr__(name: str) -> Any:
    if name == "TagEntities":  # Beam's import (seconds) only for those who build a pipeline
        from transforms.entities.transform import TagEntities

        return TagEntities
    raise AttributeError(name)
