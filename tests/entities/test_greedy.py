"""The greedy decoder gives spaCy's own entities: on every labelled paragraph (English and French), on the
edges of a doc (whitespace, an entity at the end, sentence starts set, entities already set), in any batch."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import spacy
from spacy.tokens import Span

from bench.bench_greedy import spans
from bench.entity_spans import load_items
from transforms.entities.greedy import GreedyNER, decoder_for, pipe
from transforms.entities.model import MODELS, load_nlp

EDGES = [
    "", " ", "\n\n", "Obama", "Barack Obama", "He met Barack Obama", "Barack   Obama flew to  New York City .",
    "Angela Merkel\n\nBerlin, Germany\n\n", "KENYA'S PRESIDENT WILLIAM RUTO SAID ON MONDAY",
    "The company paid $5 million on Dec. 5, 2026, or 12 percent more than the 3 million euros of 2025.",
    "  United Nations Secretary-General Antonio Guterres  ", "NAIROBI, Dec. 7 (Xinhua) -- Kenya's Mandera county",
    "Reuters", "the", "Paris \n London \t Tokyo", "U.S. Federal Reserve Chair Jerome Powell",
]


@pytest.fixture(scope="module")
def nlp():
    return load_nlp()


def texts_of(language: str) -> list[str]:
    items = [item for item in load_items() if item.language == language]
    return [text for item in items for text in (item.title, item.text)] + EDGES


@pytest.mark.parametrize("language", ["en", "fr"])
def test_same_entities_as_spacys_loop_on_every_labelled_paragraph(nlp, language):
    model = nlp if language == "en" else load_nlp(MODELS[language])
    texts = texts_of(language)
    expected = spans(model.pipe(texts))
    assert sum(map(len, expected)) > (1000 if language == "en" else 40)
    assert spans(pipe(model, texts, 64, decoder_for(model))) == expected


def test_same_entities_as_spacy_as_it_comes(nlp):
    texts = texts_of("en")
    assert spans(pipe(nlp, texts, 64, decoder_for(nlp))) == spans(load_nlp(matmul=False).pipe(texts))


@pytest.mark.parametrize("batch_size", [1, 7, 64])
def test_the_batch_changes_nothing(nlp, batch_size):
    texts = texts_of("en")[:120]
    assert spans(pipe(nlp, texts, batch_size, decoder_for(nlp))) == spans(nlp.pipe(texts))


def test_sentence_starts_already_set_are_kept_as_spacy_keeps_them(nlp):
    text = "Barack Obama met Angela Merkel in New York City on Monday and Emmanuel Macron in Paris."
    ner, decoder = nlp.get_pipe("ner"), decoder_for(nlp)
    for boundary in range(1, 12):
        ours, theirs = nlp.make_doc(text), nlp.make_doc(text)
        for doc in (ours, theirs):
            doc[boundary].is_sent_start = True
        decoder.tag([ours])
        assert spans([ours]) == spans([ner(theirs)]), boundary
        assert all(not (e.start < boundary < e.end) for e in ours.ents)


def test_entities_already_set_go_through_spacy(nlp):
    text = "Barack Obama met Angela Merkel in New York City."
    ner, decoder = nlp.get_pipe("ner"), decoder_for(nlp)
    ours, theirs = nlp.make_doc(text), nlp.make_doc(text)
    for doc in (ours, theirs):
        doc.ents = [Span(doc, 4, 5, label="ORG")]
    decoder.tag([ours, nlp.make_doc("Paris")])
    assert spans([ours]) == spans([ner(theirs)])
    assert (4, 5, "ORG") in spans([ours])[0]


def test_only_the_greedy_biluo_model_is_taken(nlp):
    assert GreedyNER.supports(nlp.get_pipe("ner"))
    assert not GreedyNER.supports(SimpleNamespace(cfg={"beam_width": 1}))
    beam = SimpleNamespace(cfg={"beam_width": 4}, model=nlp.get_pipe("ner").model, moves=nlp.get_pipe("ner").moves)
    assert not GreedyNER.supports(beam)
    assert decoder_for(spacy.blank("en")) is None


def test_a_pass_of_the_model_holds_at_most_max_tokens_unless_one_doc_is_longer(nlp, monkeypatch):
    decoder = GreedyNER(nlp.get_pipe("ner"), max_tokens=40)
    texts = [" ".join(["Kenya"] * n) for n in (5, 30, 12, 90, 1, 39, 40, 8)]
    passes: list[list[int]] = []
    real_tag = decoder.tag
    monkeypatch.setattr(decoder, "tag", lambda docs: (passes.append([len(d) for d in docs]), real_tag(docs))[1])
    docs = list(decoder.pipe((nlp.make_doc(t) for t in texts), batch_size=5))
    assert [len(d) for d in docs] == [5, 30, 12, 90, 1, 39, 40, 8]  # in order
    assert all(sum(p) <= 40 or len(p) == 1 for p in passes) and [90] in passes
    assert sorted(n for p in passes for n in p) == sorted([5, 30, 12, 90, 1, 39, 40, 8])
    assert spans(docs) == spans(nlp.pipe(texts))


def test_importing_the_stage_does_not_import_spacy():
    """A launcher builds the graph without tagging: spaCy's import (seconds) waits for the model's load."""
    import subprocess
    import sys

    code = "import sys, transforms.entities, transforms.entities.tagger; print('spacy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.strip() == "False"
