"""Entity tagging over real published articles (fundus' ground truth), read in place from ../shared/corpora.

Not a quality measure (nobody labelled the entities): it checks that real-world text, long articles
and a Chinese one included, goes through without a crash and that every result keeps its invariants.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import CORPORA
from transforms.entities.mentions import FACETS, KEPT_TYPES, facets_of
from transforms.entities.tagger import Tagger

FUNDUS = CORPORA / "articles" / "fundus"
BAD_EDGE = re.compile(r"^(?:the|The)\s|['\u2019]s$|^[\W_]|[,;:!?\"')\]]$")


def load_articles() -> list[tuple[str, str, str]]:
    """(publisher file, title, body) for every article version in the corpus."""
    if not FUNDUS.is_dir():
        pytest.skip(f"real-article corpus not found at {FUNDUS}")
    articles = []
    for path in sorted(FUNDUS.glob("*/*.json")):
        for version in json.loads(path.read_text(encoding="utf-8")).values():
            paragraphs = [p for section in version["body"]["sections"] for p in section["paragraphs"]]
            articles.append((f"{path.parent.name}/{path.name}", version.get("title") or "", "\n\n".join(paragraphs)))
    return articles


@pytest.fixture(scope="module")
def tagged():
    articles = load_articles()
    results = Tagger.load().tag_many([(title, body) for _, title, body in articles])
    return list(zip(articles, results, strict=True))


def test_languages_and_statuses(tagged):
    by_source = {source: result for (source, _, _), result in tagged}
    people = by_source["cn/People.json"]
    assert people.language == "zh" and people.status == "skipped: language zh has no model"
    assert people.entities == []
    english = [result for (source, _, _), result in tagged if not source.startswith("cn/")]
    assert len(english) >= 60
    assert all(result.language == "en" and result.status == "tagged" for result in english)
    assert sum(bool(result.entities) for result in english) >= len(english) - 1


def test_result_invariants(tagged):
    for (source, _, body), result in tagged:
        entities = result.entities
        assert [e["salience"] for e in entities] == sorted((e["salience"] for e in entities), reverse=True), source
        assert len({e["name"].casefold() for e in entities}) == len(entities), source
        assert result.facets == facets_of(entities) and set(result.facets) == set(FACETS), source
        for entity in entities:
            assert entity["type"] in KEPT_TYPES, (source, entity)
            assert 0 < entity["salience"] <= 1 and entity["mentions"] >= 1, (source, entity)
            assert not BAD_EDGE.search(entity["name"]), (source, entity)
            if entity["first_offset"] is None:
                assert entity["in_title"], (source, entity)
            else:
                assert 0 <= entity["first_offset"] < len(body), (source, entity)
