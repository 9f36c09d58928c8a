"""The Beam wrapper of the clean stage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import apache_beam as beam

from transforms.article import Article
from transforms.cleaning.cleaner import Cleaner, clean_article


class CleanArticles(beam.DoFn):
    """Beam wrapper: the Cleaner is built once per worker in setup()."""

    def __init__(self, rules_dir: str | Path | None = None) -> None:
        self.rules_dir = rules_dir
        self.cleaner: Cleaner | None = None

    def setup(self) -> None:
        self.cleaner = Cleaner.from_dir(self.rules_dir)

    def process(self, article: Article) -> Iterator[Article]:
        assert self.cleaner is not None
        yield clean_article(article, self.cleaner)
