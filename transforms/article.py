"""The plain data that flows between stages.

Kept as dataclasses of str/list/dict so that Beam can pickle them and every
stage can be tested without Beam.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Article:
    """One feed entry, as parsed, before cleaning and tagging."""

    id: str  # deterministic document _id (from guid or canonical URL)
    guid: str
    url: str
    canonical_url: str
    title: str
    summary_html: str = ""
    content_html: str = ""
    published_at: str | None = None  # ISO 8601, UTC
    updated_at: str | None = None
    first_seen_at: str | None = None
    date_source: str = "first_seen"  # published | updated | first_seen
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    enclosures: list[dict[str, Any]] = field(default_factory=list)
    language_hint: str | None = None
    feed_name: str = ""
    feed_url: str = ""
    source_name: str = ""
    source_domain: str = ""
    agency: str | None = None
    full_text: bool = False
    flags: list[str] = field(default_factory=list)
    # Filled by the clean stage.
    text: str = ""
    dateline: dict[str, str | None] | None = None  # {"location": ..., "date_text": ...}
    cleaning: dict[str, Any] = field(default_factory=dict)  # {"rules": [...], "removed_chars": n}
    content_hash: str = ""
    # Filled by the enrich stage.
    language: str | None = None
    entities: dict[str, Any] = field(default_factory=dict)  # facets per type + "details"
    entities_status: str | None = None
    # Filled by the story stage: {"id", "first_seen_at", "first_source"} (empty when it did not run).
    story: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FeedSpec:
    """One feed of the config."""

    name: str
    url: str
    agency: str | None = None
    full_text: bool = False
    poll_interval: int = 300

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
