"""The cleaner over the article text of every real feed in ../shared/corpora/feeds (read in place).

Run as a script for a report of which rules fired and what was refused:
    python tests/cleaning/test_clean_corpus.py
"""

from __future__ import annotations

import collections
import json
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import ftfy
import pytest

from transforms.cleaning.cleaner import Cleaner
from transforms.cleaning.engine import CleanResult
from transforms.cleaning.html_text import to_paragraphs

CORPORA = Path(os.environ.get("WIRENEWS_CORPORA", Path(__file__).resolve().parents[3] / "shared" / "corpora"))
FEEDS = CORPORA / "feeds"
FUNDUS = CORPORA / "articles" / "fundus"
needs_feeds = pytest.mark.skipif(
    not FEEDS.is_dir(), reason=f"real-feed corpus not present at {FEEDS} (it is not shipped with the project)"
)


@dataclass
class Item:
    feed: str
    source: str  # the normalised input text
    result: CleanResult


@dataclass
class Report:
    items: list[Item] = field(default_factory=list)
    no_text: dict[str, str] = field(default_factory=dict)  # feed -> why nothing was cleaned


def _entries(path: Path) -> tuple[list[tuple[str, str, str]], str | None]:
    """(html, domain, title) per entry; JSON Feed is read directly, since feedparser does not read JSON."""
    data = path.read_bytes()
    if path.suffix == ".json":
        doc = json.loads(data)
        items = doc.get("items") if isinstance(doc, dict) else None
        if not items or not any("content_html" in i or "content_text" in i for i in items):
            return [], "JSON without article text (not a JSON Feed)"
        return [
            (i.get("content_html") or i.get("content_text") or "", urlsplit(i.get("url", "")).hostname or "",
             i.get("title") or "")
            for i in items
        ], None
    parsed = feedparser.parse(data)
    out = []
    for e in parsed.entries:
        html = (e.get("content") or [{}])[0].get("value") or e.get("summary") or ""
        out.append((html, urlsplit(e.get("link", "")).hostname or "", e.get("title", "")))
    return out, None if out else "no entries"


def run_corpus(cleaner: Cleaner) -> Report:
    report = Report()
    for path in sorted(p for p in FEEDS.rglob("*") if p.is_file()):
        feed = str(path.relative_to(FEEDS))
        entries, why = _entries(path)
        if why:
            report.no_text[feed] = why
        for html, domain, title in entries:
            source = "\n\n".join(to_paragraphs(html))
            report.items.append(Item(feed, source, cleaner.clean(html, domain=domain or None, title=title or None)))
    return report


@pytest.fixture(scope="module")
def report() -> Report:
    return run_corpus(Cleaner.from_dir())


@needs_feeds
def test_every_feed_yields_text(report: Report) -> None:
    feeds_with_text = {i.feed for i in report.items if i.result.text}
    all_feeds = {str(p.relative_to(FEEDS)) for p in FEEDS.rglob("*") if p.is_file()}
    assert all_feeds - feeds_with_text == set(report.no_text)
    assert len(report.items) > 300


@needs_feeds
def test_text_is_normalised(report: Report) -> None:
    for item in report.items:
        text = item.result.text
        assert unicodedata.is_normalized("NFC", text), item.feed
        assert not any(ord(ch) < 32 and ch != "\n" for ch in text), item.feed
        assert "\u00a0" not in text and "  " not in text and "\n\n\n" not in text, item.feed
        assert not ftfy.is_bad(text), (item.feed, text[:200])  # double-encoded feeds are repaired


@needs_feeds
def test_reporting_is_kept(report: Report) -> None:
    """Removals are small, whole and audited: the text keeps most of what came in."""
    for item in report.items:
        result = item.result
        if len(item.source) >= 500:
            assert len(result.text) >= 0.6 * len(item.source), (item.feed, [r.text for r in result.removed])
        removed = sum(len(r.text) for r in result.removed)
        assert len(item.source) - len(result.text) >= removed, item.feed  # every removed char accounted for


@needs_feeds
def test_wire_datelines_are_parsed(report: Report) -> None:
    by_feed = collections.defaultdict(list)
    for item in report.items:
        by_feed[item.feed].append(item)
    reuters = [i for i in by_feed["reuters/reuters_world_2018.xml"] if "(Reuters) -" in i.source[:80]]
    assert reuters and all(i.result.agency == "reuters" and i.result.dateline for i in reuters)
    tpm_ap = [i for i in by_feed["tpm/tpm.atom"] if "(AP) \u2014" in i.source[:80]]
    assert tpm_ap and all(i.result.agency == "ap" and i.result.dateline["location"] for i in tpm_ap)
    for item in report.items:  # no dateline text left at the head once one was parsed
        if item.result.dateline:
            assert "(Reuters)" not in item.result.text[:40] and "(AP)" not in item.result.text[:40]


@pytest.mark.skipif(not FUNDUS.is_dir(), reason=f"article corpus with ground truth not present at {FUNDUS}")
def test_real_reporting_is_left_alone() -> None:
    """Publishers' article bodies as extracted by hand-written parsers: only datelines and link lines may go."""
    cleaner = Cleaner.from_dir()
    total = removed = articles = 0
    for path in sorted(FUNDUS.glob("*/*.json")):
        for art in json.loads(path.read_text(encoding="utf-8")).values():
            paragraphs = [p for s in art.get("body", {}).get("sections", []) for p in s["headline"] + s["paragraphs"]]
            if not paragraphs:
                continue
            articles += 1
            text = "\n\n".join(paragraphs)
            result = cleaner.clean(text, title=art.get("title"))
            total += len(text)
            for r in result.removed:
                assert r.rule.endswith((".dateline", ".byline", ".related", "headline")), (path.name, r)
                removed += len(r.text)
    assert articles > 50
    assert removed < 0.001 * total


def main() -> None:
    rep = run_corpus(Cleaner.from_dir())
    fired: collections.Counter[str] = collections.Counter()
    refused: collections.Counter[str] = collections.Counter()
    samples: dict[str, str] = {}
    for item in rep.items:
        for r in item.result.removed:
            fired[r.rule] += 1
            samples.setdefault(r.rule, r.text[:90])
        for r in item.result.refused:
            refused[r.rule] += 1
            samples.setdefault("refused " + r.rule, r.text[:90])
    feeds = collections.Counter(i.feed for i in rep.items)
    print(f"{len(rep.items)} entries from {len(feeds)} feeds; no text in: {rep.no_text}")
    print(f"datelines parsed: {sum(1 for i in rep.items if i.result.dateline)}; "
          f"agencies: {collections.Counter(i.result.agency for i in rep.items if i.result.agency)}")
    for rule, n in fired.most_common():
        print(f"  fired   {n:4d}  {rule:28s} e.g. {samples[rule]!r}")
    for rule, n in refused.most_common():
        print(f"  refused {n:4d}  {rule:28s} e.g. {samples['refused ' + rule]!r}")


if __name__ == "__main__":
    main()
