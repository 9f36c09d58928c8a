"""Every labelled case in tests/data/cleaning/ cleans to exactly its expected text and fields."""

from __future__ import annotations

import pytest

from tests.conftest import DATA
from transforms.cleaning.cases import load_cases
from transforms.cleaning.cleaner import Cleaner
from transforms.cleaning.html_text import to_paragraphs

CASES = load_cases(DATA / "cleaning")


@pytest.fixture(scope="module")
def cleaner() -> Cleaner:
    return Cleaner.from_dir()


def test_the_labelled_set_is_broad() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    assert len(CASES) >= 80
    assert len({c.source for c in CASES} - {"negatives", "portals", "holdout"}) >= 12
    assert all("dateline" in c.expected for c in CASES), "every case states its dateline (or null)"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(cleaner: Cleaner, case) -> None:
    result = cleaner.clean(case.input, agency=case.agency, domain=case.domain, title=case.title)
    expected = case.expected
    assert result.text == expected["text"].strip()
    assert result.dateline == expected.get("dateline")
    if "agency" in expected:
        assert result.agency == expected["agency"]
    if "authors" in expected:
        assert result.authors == expected["authors"]
    # The audit accounts for what went: nothing removed that was not reported.
    if result.text == "\n\n".join(to_paragraphs(case.input)):
        assert result.removed == []
    else:
        assert result.removed
