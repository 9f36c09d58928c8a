"""Stage 4, clean: article HTML to plain reporting, datelines parsed, every removal audited."""

from __future__ import annotations

from typing import Any

from transforms.cleaning.cleaner import Cleaner, clean_article, content_hash
from transforms.cleaning.engine import CleanResult, Removal

__all__ = ["CleanArticles", "CleanResult", "Cleaner", "Removal", "clean_article", "content_hash"]


def __getattr__(name: str) -> Any:
    if name == "CleanArticles":  # Beam's import (seconds) only for those who build a pipeline
        from transforms.cleaning.transform import CleanArticles

        return CleanArticles
    raise AttributeError(name)
