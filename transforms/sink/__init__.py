"""Stage 6, index: the article document, bulk writes with retries, skip-unchanged, dead letters."""

from __future__ import annotations

from typing import Any

from transforms.sink.bulk import ElasticsearchSink, IndexRequest, StoredLookup, reached_index
from transforms.sink.document import document_id, to_document

__all__ = ["ElasticsearchSink", "IndexRequest", "SkipUnchanged", "StoredLookup", "WriteToElasticsearch",
           "document_id", "reached_index", "to_document"]


def __getattr__(name: str) -> Any:
    if name in ("SkipUnchanged", "WriteToElasticsearch"):  # Beam's import (seconds) only for pipelines
        from transforms.sink import index

        return getattr(index, name)
    raise AttributeError(name)
