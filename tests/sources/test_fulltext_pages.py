"""The main text of saved article pages: never empty, never worse than trafilatura alone (a floor, not a benchmark).

The pages in tests/data/fulltext/pages are our own writing; bench/eval_fulltext.py prints the figures.
"""

from __future__ import annotations

import pytest
import trafilatura

from bench.eval_fulltext import FUNDUS, bag_scores, fundus_pages, our_pages
from transforms.sources.fulltext import extract_main_text, json_ld_body, without_headline

PAGES = list(our_pages())
# Measured 0.960 on these pages (trafilatura's defaults 0.889, favor_precision 0.826); a drop is a regression.
MEAN_F1_FLOOR = 0.95


def test_the_saved_pages_are_there():
    assert len(PAGES) >= 15
    assert all(expected.strip() for _, _, expected in PAGES)


@pytest.mark.parametrize(("name", "page", "expected"), PAGES, ids=[name for name, _, _ in PAGES])
def test_each_page_is_never_empty_nor_worse_than_trafilatura(name, page, expected):
    ours = bag_scores(extract_main_text(page, ""), expected)[2]
    assert ours > 0.8, name
    for options in ({}, {"favor_precision": True}):
        theirs = bag_scores(trafilatura.extract(page, **options) or "", expected)[2]
        assert ours >= theirs - 0.005, (name, options, ours, theirs)


def test_mean_f1_floor():
    mean = sum(bag_scores(extract_main_text(page, ""), expected)[2] for _, page, expected in PAGES) / len(PAGES)
    assert mean >= MEAN_F1_FLOOR, f"mean F1 {mean:.3f}"


def test_a_page_extracted_again_gives_the_same_text():
    """An updated story is fetched again: trafilatura's cross-page deduplication used to empty it."""
    page = dict((name, page) for name, page, _ in PAGES)["wire-agency"]
    first = extract_main_text(page, "")
    assert first and all(extract_main_text(page, "") == first for _ in range(5))


def test_json_ld_body():
    page = """<html><head><script type="application/ld+json">[{"@type": "BreadcrumbList"},
      {"@graph": [{"@type": "NewsArticle", "articleBody": "<p>First &amp; foremost.</p><p>Second   line.</p>"}]}]
      </script><script type="application/ld+json">{"broken": </script></head><body></body></html>"""
    assert json_ld_body(page) == "First & foremost.\nSecond line."
    assert json_ld_body("<html><body><p>No JSON-LD here.</p></body></html>") == ""


def test_without_headline():
    page = "<html><head><title>Landslide cuts road to Machu Picchu | Andean Press</title></head><body></body></html>"
    assert without_headline("Landslide cuts road to Machu Picchu\nA landslide cut...", page) == "A landslide cut..."
    assert without_headline("A landslide cut the road.\nSecond.", page) == "A landslide cut the road.\nSecond."
    h1 = "<h1>Fire <em>destroys</em> bank</h1>"
    assert without_headline("Fire destroys bank\nThe Borsen burned.", h1) == "The Borsen burned."


@pytest.mark.skipif(not FUNDUS.is_dir(), reason=f"real article pages not found at {FUNDUS}")
def test_real_pages_none_empty_and_no_worse_than_trafilatura_on_average():
    pages = list(fundus_pages())
    ours = [bag_scores(extract_main_text(page, ""), expected)[2] for _, page, expected in pages]
    theirs = [bag_scores(trafilatura.extract(page) or "", expected)[2] for _, page, expected in pages]
    assert min(ours) > 0.5
    assert sum(ours) / len(ours) >= sum(theirs) / len(theirs)  # measured 0.961 against 0.949
