"""Full-text quality: word-bag F1 of the main text per page, wirenews's extractor against trafilatura alone.

    .venv/bin/python bench/eval_fulltext.py [--corpus] [--pages]

Pages: the saved article pages in tests/data/fulltext/pages/ (our own writing: JSON-LD ``articleBody`` behind a
paywall or a script-rendered body, a table layout, a standings table that is the article, a long review, a
reprint notice, comments, captions, lists...), each with its expected main text in ``NAME.txt``. With
``--corpus``, also the news pages with ground truth in ../shared/corpora/articles/fundus, read in place (skipped
with a reason when that folder is absent).

Per page: precision, recall and F1 of the bag (multiset) of lower-cased words of the extracted text against the
expected text; an empty extraction scores 0. Reported: mean F1 over pages, mean precision and recall, and the
pages that came out empty. Systems: wirenews (``extract_main_text``), trafilatura with its defaults, and
trafilatura with ``favor_precision=True``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

PAGES = REPO / "tests" / "data" / "fulltext" / "pages"
FUNDUS = REPO.parent / "shared" / "corpora" / "articles" / "fundus"
_WORD = re.compile(r"\w+")


def words(text: str) -> Counter[str]:
    return Counter(_WORD.findall(text.casefold()))


def bag_scores(extracted: str, expected: str) -> tuple[float, float, float]:
    """(precision, recall, F1) of the word bags; nothing extracted scores zero."""
    got, want = words(extracted), words(expected)
    common = sum((got & want).values())
    if not common:
        return 0.0, 0.0, 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return precision, recall, 2 * precision * recall / (precision + recall)


def our_pages() -> Iterator[tuple[str, str, str]]:
    """(name, html, expected text) of the saved pages."""
    for path in sorted(PAGES.glob("*.html")):
        yield path.stem, path.read_text(encoding="utf-8"), path.with_suffix(".txt").read_text(encoding="utf-8")


def fundus_pages() -> Iterator[tuple[str, str, str]]:
    """(name, html, expected text) of the fundus pages: per publisher, versions V1, V2... pair with its pages
    in date order; the expected text is the summary, section headlines and paragraphs."""
    for truth in sorted(FUNDUS.glob("*/*.json")):
        publisher = truth.stem
        versions = json.loads(truth.read_text(encoding="utf-8"))
        pages = sorted(truth.parent.glob(f"{publisher}_*.html.gz"))
        for version, page in zip(sorted(versions), pages, strict=False):
            body = versions[version].get("body") or {}
            lines = list(body.get("summary") or [])
            for section in body.get("sections") or []:
                lines += list(section.get("headline") or []) + list(section.get("paragraphs") or [])
            raw = gzip.decompress(page.read_bytes())
            yield f"{truth.parent.name}/{page.name[:-8]}", raw.decode("utf-8", "replace"), "\n".join(lines)


def systems() -> dict[str, Callable[[str], str]]:
    import trafilatura

    from transforms.sources.fulltext import extract_main_text

    return {
        "wirenews": lambda page: extract_main_text(page, ""),
        "trafilatura": lambda page: trafilatura.extract(page) or "",
        "favor_precision": lambda page: trafilatura.extract(page, favor_precision=True) or "",
    }


def evaluate(pages: list[tuple[str, str, str]], show: bool) -> None:
    runs = systems()
    totals = {name: [0.0, 0.0, 0.0] for name in runs}
    empty: dict[str, list[str]] = {name: [] for name in runs}
    if show:
        print(f"  {'page':34s} " + " ".join(f"{name:>16s}" for name in runs))
    for name, page, expected in pages:
        row = []
        for system, extract in runs.items():
            text = extract(page)
            scores = bag_scores(text, expected)
            totals[system] = [a + b for a, b in zip(totals[system], scores, strict=True)]
            if not text.strip():
                empty[system].append(name)
            row.append(scores[2])
        if show:
            print(f"  {name[:34]:34s} " + " ".join(f"{f1:16.3f}" for f1 in row))
    count = max(len(pages), 1)
    for system, (precision, recall, f1) in totals.items():
        print(
            f"  {system:16s} mean F1 {f1 / count:.3f}  (P {precision / count:.3f}, R {recall / count:.3f}); "
            f"empty: {len(empty[system])}{' ' + ', '.join(empty[system]) if empty[system] else ''}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", action="store_true", help="also the fundus pages under ../shared/corpora")
    parser.add_argument("--pages", action="store_true", help="print each page's F1")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, force=True)
    pages = list(our_pages())
    print(f"our saved pages: {len(pages)}")
    evaluate(pages, args.pages)
    if args.corpus:
        if not FUNDUS.is_dir():
            print(f"fundus pages skipped: {FUNDUS} is absent")
        else:
            corpus = list(fundus_pages())
            print(f"fundus pages (read in place): {len(corpus)}")
            evaluate(corpus, args.pages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
