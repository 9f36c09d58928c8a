"""The model on numpy's matmul with one BLAS thread: the same products, the same entities, pinned threads; and
the tagger's memory zone: a batch's strings leave the vocabulary with it."""

from __future__ import annotations

import numpy
import pytest
from thinc.api import NumpyOps

from bench.entity_spans import load_items
from transforms.entities import blas
from transforms.entities.aliases import AliasTable
from transforms.entities.blas import MatmulOps, blas_threads, pin_blas_threads, use_matmul
from transforms.entities.model import MODELS, load_nlp
from transforms.entities.tagger import Tagger


@pytest.fixture(scope="module")
def both():
    """The model with spaCy's own ops and with the matmul ops."""
    return load_nlp(matmul=False), load_nlp()


@pytest.mark.parametrize(("trans1", "trans2"), [(False, False), (False, True), (True, False), (True, True)])
def test_matmul_gemm_gives_thincs_products(trans1, trans2):
    rng = numpy.random.default_rng(5)
    x = rng.standard_normal((40, 30) if not trans1 else (30, 40), dtype=numpy.float32)
    y = rng.standard_normal((30, 20) if not trans2 else (20, 30), dtype=numpy.float32)
    expected = NumpyOps().gemm(x, y, trans1=trans1, trans2=trans2)
    got = MatmulOps().gemm(x, y, trans1=trans1, trans2=trans2)
    assert got.shape == expected.shape == (40, 20)
    numpy.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    out = numpy.zeros((40, 20), dtype=numpy.float32)
    assert MatmulOps().gemm(x, y, out=out, trans1=trans1, trans2=trans2) is out
    numpy.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


def test_the_loaded_model_runs_on_matmul_with_one_blas_thread(both):
    reference, nlp = both
    assert pin_blas_threads(2) and blas_threads() == 2
    assert use_matmul(nlp)
    assert blas_threads() == 1
    assert {type(node.ops) for node in nlp.get_pipe("ner").model.walk()} == {MatmulOps}
    assert MatmulOps not in {type(node.ops) for node in reference.get_pipe("ner").model.walk()}


def test_without_a_settable_blas_the_model_keeps_thincs_ops(monkeypatch):
    monkeypatch.setattr(blas, "threadpool_info", lambda: [{"internal_api": "mkl", "num_threads": 2}])
    nlp = load_nlp()
    assert not use_matmul(nlp)
    assert MatmulOps not in {type(node.ops) for node in nlp.get_pipe("ner").model.walk()}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_same_entity_spans_as_spacys_own_ops_on_every_labelled_paragraph(both, language):
    model = MODELS[language]
    reference, nlp = both if language == "en" else (load_nlp(model, matmul=False), load_nlp(model))
    items = [item for item in load_items() if item.language == language]
    texts = [text for item in items for text in (item.title, item.text)]
    spans = [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in reference.pipe(texts)]
    assert sum(map(len, spans)) > (1000 if language == "en" else 40)
    assert [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in nlp.pipe(texts)] == spans


def test_same_mentions_from_the_tagger_on_every_labelled_paragraph(both):
    reference, nlp = both
    items = [item for item in load_items() if item.language == "en"]
    pairs, hints = [(item.title, item.text) for item in items], [item.language for item in items]
    expected = Tagger(reference, AliasTable.load(), greedy=False).tag_mentions(pairs, hints)
    assert Tagger(nlp, AliasTable.load(), greedy=False).tag_mentions(pairs, hints) == expected
    assert Tagger(nlp, AliasTable.load()).tag_mentions(pairs, hints) == expected


def test_batch_size_and_warm_vocabulary_change_no_mention(both):
    _, nlp = both
    items = [item for item in load_items() if item.language == "en"]
    pairs, hints = [(item.title, item.text) for item in items], [item.language for item in items]
    expected = Tagger(nlp, AliasTable.load(), batch_size=64, warm_strings=0).tag_mentions(pairs, hints)
    assert Tagger(nlp, AliasTable.load(), batch_size=16).tag_mentions(pairs, hints) == expected
    assert Tagger(nlp, AliasTable.load()).tag_mentions(pairs, hints) == expected


def test_a_batchs_new_words_leave_the_vocabulary_with_it(both):
    _, nlp = both
    tagger = Tagger(nlp, AliasTable.load(), warm_strings=0)
    tagger.tag_many([("Warm-up", "A first batch loads what every batch needs.")])
    strings = len(nlp.vocab.strings)  # (len(nlp.vocab) counts every lexeme ever made, freed or not)
    invented = " ".join(f"Quorblax{n} Zentrivo{n} met Vexhollow{n} officials in Prandocia{n}." for n in range(50))
    results = tagger.tag_many([(f"Zentrivo{n} visits Prandocia{n}", invented) for n in range(3)])
    names = {entity["name"] for result in results for entity in result.entities}
    assert any("Quorblax" in name or "Zentrivo" in name or "Prandocia" in name for name in names), names
    assert len(nlp.vocab.strings) == strings
    assert "Quorblax7" not in nlp.vocab and "Prandocia1" not in nlp.vocab
    list(nlp.pipe([invented]))  # outside a zone, the same words stay
    assert len(nlp.vocab.strings) > strings and "Quorblax7" in nlp.vocab


def test_the_first_batches_words_stay_until_the_vocabulary_is_warm(both):
    _, nlp = both
    tagger = Tagger(nlp, AliasTable.load(), warm_strings=40)
    base = len(nlp.vocab.strings)

    def invented(tag: str) -> str:
        return " ".join(f"Quorb{tag}{n} met Zent{tag}{n} in Prand{tag}{n}." for n in range(20))

    tagger.tag_many([("A headline", invented("a"))])  # 60 new words: kept, the cache warms
    assert "Quorba7" in nlp.vocab and len(nlp.vocab.strings) - base >= 40
    warm = len(nlp.vocab.strings)
    tagger.tag_many([("Another headline", invented("b"))])  # past the limit: in a zone, gone after it
    assert len(nlp.vocab.strings) == warm and "Quorbb7" not in nlp.vocab
