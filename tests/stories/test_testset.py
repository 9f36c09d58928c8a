"""Pair precision and recall on the written test set, through the real clean stage."""

import pytest

from tests.stories import evaluate, testset


def test_the_set_has_copies_of_every_edit_and_look_alikes():
    items = testset.items("dev") + testset.items("held")
    edits = {e for i in items for e in i.edits}
    assert set(testset.BODY_EDITS) | set(testset.TITLE_EDITS) <= edits
    families = {}
    for s in testset.stories():
        families.setdefault(s.family, set()).add(s.key)
    assert sum(1 for keys in families.values() if len(keys) > 1) >= 10
    assert {s.split for s in testset.stories()} == {"dev", "held"}


@pytest.mark.parametrize("split", ["dev", "held"])
def test_pair_precision_and_recall(split):
    result = evaluate.run(split)
    assert result["precision"] >= 0.98 and result["recall"] >= 0.95, evaluate.errors(result)


def test_batch_size_does_not_change_the_clusters():
    data = testset.cleaned("dev")
    one = evaluate.run("dev", batch=1, cleaned=data)["story_of"]
    many = evaluate.run("dev", batch=64, cleaned=data)["story_of"]
    assert one == many
