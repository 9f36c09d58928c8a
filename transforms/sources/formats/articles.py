"""Wire items as Articles: the text for the clean stage, every structured field in ``Article.wire``.

The document id comes from the item's story identity, so all versions of a story land on one document. When
one poll reads several versions of a story (a folder holding a story and its write-through), only the newest
goes on, carrying the keys of the versions seen with it so the index can count them.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone

from transforms.article import Article, FeedSpec
from transforms.sources.dates import iso_z
from transforms.sources.feeds import article_id
from transforms.sources.formats.base import WireItem
from transforms.sources.urls import canonical_url, host_of


def to_article(item: WireItem, feed: FeedSpec, fetched_url: str, now: datetime) -> Article:
    """One wire item as an Article of ``feed``; ``now`` is when it was first seen."""
    published = item.first_created or item.version_created
    wire = item.wire_fields()
    wire["version_keys"] = [item.version_key]
    return Article(
        id=article_id(item.guid, "", feed.name),
        guid=item.guid,
        url=item.url or "",
        canonical_url=canonical_url(item.url) if item.url else "",
        title=item.headline or item.slugline or "",
        summary_html=html.escape(item.summary, quote=False) if item.summary else "",
        content_html=item.body_html,
        published_at=published,
        updated_at=item.version_created if item.version_created != published else None,
        first_seen_at=iso_z(now.astimezone(timezone.utc)),
        date_source="published" if item.first_created else "updated" if item.version_created else "first_seen",
        authors=list(item.byline),
        categories=list(item.keywords),
        language_hint=item.language,
        feed_name=feed.name,
        feed_url=feed.url,
        source_name=feed.name,
        source_domain=host_of(fetched_url),
        agency=feed.agency or item.agency,
        full_text=False,
        dateline=dict(item.dateline) if item.dateline else None,
        wire=wire,
    )


def newest_versions(articles: list[Article]) -> tuple[list[Article], int]:
    """One Article per document: the newest version of each story, with the keys of all versions seen.

    Returns the Articles (in the order their stories first appeared) and how many older versions were dropped.
    """
    newest: dict[str, Article] = {}
    keys: dict[str, set[int]] = {}
    for art in articles:
        key = int(art.wire.get("version_key") or 0)
        keys.setdefault(art.id, set()).update(art.wire.get("version_keys") or [key])
        kept = newest.get(art.id)
        if kept is None or key >= int(kept.wire.get("version_key") or 0):
            newest[art.id] = art
    for doc_id, art in newest.items():
        art.wire["version_keys"] = sorted(keys[doc_id])
    return list(newest.values()), len(articles) - len(newest)
