"""spaCy's greedy NER decoding without its per-token state loop: the same model, the same entities, less CPU.

Why: spaCy 3.8's compiled transition loop takes and drops the GIL inside every validity check of every
token (``perf``: about two fifths of the model's CPU in ``take_gil``/``drop_gil`` and mutexes), which no
setting turns off. For NER the loop is simple enough to do otherwise. A state's features are the token in
front of the buffer, the first token of the open entity and the token before (the last two only while an
entity is open), so:

- every state with no open entity has the same features at a token whatever came before: its scores for
  all tokens of a batch are one matrix product, and its action (``B-``, ``U-`` or ``O``, the best valid
  one) is an argmax over columns;
- only tokens inside an entity opened by ``B-`` need a step of their own, and there only ``I-`` and ``L-``
  of the entity's label are valid: two dot products.

The arithmetic is spaCy's own, in its order (features summed in slot order, then the bias; maxout; the
output layer, then its bias; the first best valid action on ties), so the decisions are the model's; only
the order of the sums inside a matrix product is BLAS's (``bench/bench_greedy.py`` counts every
difference from spaCy over the bench corpus and the labelled sets). What the fast path does not cover (a
beam, other feature sets, unseen classes, entities or sentence starts already set on a doc) goes through
spaCy's own ``predict``.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any

import numpy

if TYPE_CHECKING:  # pragma: no cover - typing only
    from spacy.language import Language
    from spacy.tokens import Doc, Span

OUT, BEGIN, IN, LAST, UNIT = "O", "B", "I", "L", "U"
NER_FEATURES = 3  # spaCy's "ner" state type: buffer front, entity start, token before
# Tokens per pass of the model. thinc keeps every layer's output of a pass until its end (about 19 KB a token
# for en_core_web_sm), so a pass's arrays grow with its tokens: spaCy's parts of 16 docs (about 8,000 tokens
# of wire copy) made a worker's memory swing by ~100 MB at every batch. Over 800 texts of the bench corpus, a
# process's peak above the loaded model: 250 MB with whole batches of 64, 127 MB with spaCy's parts, 35 MB at
# 2,048 tokens, 8 MB at 512 -- and 512 took the least CPU too (12.4-12.7 s against 15.2-16.1 s at 2,048 and
# 13.2 s for whole batches; smaller arrays stay in the caches). A doc longer than this is a pass of its own.
MAX_TOKENS = 512


def decoder_for(nlp: Language) -> GreedyNER | None:
    """The fast decoder for ``nlp``'s ``ner`` component, or None when it has none this decoder reproduces."""
    if "ner" not in nlp.pipe_names or not GreedyNER.supports(nlp.get_pipe("ner")):
        return None
    return GreedyNER(nlp.get_pipe("ner"))


def pipe(nlp: Language, texts: Iterable[str], batch_size: int, decoder: GreedyNER | None) -> Iterator[Doc]:
    """``nlp.pipe(texts)`` with ``decoder`` in place of the ``ner`` component (None: spaCy's own)."""
    if decoder is None:
        return nlp.pipe(texts, batch_size=batch_size)
    docs: Iterable[Doc] = (nlp.make_doc(text) for text in texts)
    for name, component in nlp.pipeline:
        docs = decoder.pipe(docs, batch_size) if name == "ner" else component.pipe(docs, batch_size=batch_size)
    return iter(docs)


class GreedyNER:
    """Tags batches of docs with the weights of a loaded spaCy ``ner`` component (``supports`` it first)."""

    def __init__(self, ner: Any, max_tokens: int = MAX_TOKENS) -> None:
        self.ner = ner
        self.max_tokens = max_tokens
        tok2vec, lower, upper = ner.model.layers
        self.tok2vec, self.lower = tok2vec, lower
        self.bias = lower.get_param("b")  # (hidden, pieces)
        self.out_w = numpy.ascontiguousarray(upper.get_param("W"))  # (classes, hidden)
        self.out_b = upper.get_param("b")
        moves = [ner.moves.get_class_name(i) for i in range(ner.moves.n_moves)]
        kinds = [m.split("-", 1)[0] for m in moves]
        labels = [m.split("-", 1)[1] if "-" in m else "" for m in moves]
        labelled = numpy.array([bool(label) for label in labels])
        kind = numpy.array(kinds)
        self.labels = labels
        self.kind = kinds
        self.out = kinds.index(OUT)
        # columns valid with no entity open: every labelled B- and U-, and O; then without B-; then O alone
        self.closed_ok = numpy.flatnonzero(((kind == BEGIN) | (kind == UNIT)) & labelled | (kind == OUT))
        self.closed_no_begin = numpy.flatnonzero((kind == UNIT) & labelled | (kind == OUT))
        index = {m: i for i, m in enumerate(moves)}
        # for each B- column: the I- and L- columns of its label, and their rows of the output layer
        self.inside: dict[int, tuple[int, int, numpy.ndarray, numpy.ndarray]] = {}
        for i, k in enumerate(kinds):
            if k == BEGIN and labels[i]:
                cols = [index[f"{IN}-{labels[i]}"], index[f"{LAST}-{labels[i]}"]]
                self.inside[i] = (cols[0], cols[1], self.out_w[cols], self.out_b[cols])

    @staticmethod
    def supports(ner: Any) -> bool:
        """True when ``ner`` is the greedy BILUO model this decoder reproduces."""
        try:
            model = ner.model
            lower = model.layers[1]
            moves = [ner.moves.get_class_name(i) for i in range(ner.moves.n_moves)]
        except (AttributeError, IndexError, TypeError):
            return False
        kinds = {m.split("-", 1)[0] for m in moves}
        return (ner.cfg.get("beam_width", 1) == 1 and model.attrs.get("has_upper") is True
                and not model.attrs.get("unseen_classes") and len(model.layers) == 3
                and lower.name == "precomputable_affine" and lower.get_dim("nF") == NER_FEATURES
                and lower.get_dim("nP") >= 2 and kinds <= {OUT, BEGIN, IN, LAST, UNIT} and OUT in kinds
                and all(f"{LAST}-{m[2:]}" in moves and f"{IN}-{m[2:]}" in moves for m in moves if m.startswith("B-")))

    def pipe(self, docs: Iterable[Doc], batch_size: int = 64) -> Iterator[Doc]:
        """Like ``ner.pipe``: the docs, in order, with their entities set. Each batch goes through the model sorted
        by length, in parts of at most ``max_tokens`` tokens (a doc longer than that alone)."""
        it = iter(docs)
        while batch := list(islice(it, batch_size)):
            part: list[Doc] = []
            tokens = 0
            for doc in sorted(batch, key=len):
                if part and tokens + len(doc) > self.max_tokens:
                    self.tag(part)
                    part, tokens = [], 0
                part.append(doc)
                tokens += len(doc)
            if part:
                self.tag(part)
            yield from batch

    def tag(self, docs: list[Doc]) -> None:
        """Set the entities of ``docs``, one batch through the model."""
        from spacy.attrs import ENT_IOB, IS_SPACE, SENT_START  # spaCy's import takes seconds: only when tagging

        if not any(len(doc) for doc in docs):
            return self._spacy(docs)
        arrays = [doc.to_array([ENT_IOB, SENT_START, IS_SPACE]) for doc in docs]
        if any(a[:, 0].any() for a in arrays if len(a)):
            return self._spacy(docs)  # entities already set: spaCy's rules for keeping them
        cached = self.lower.predict(self.tok2vec.predict(docs))  # (tokens + 1, features, hidden, pieces); row 0 pads
        pad = cached[0]
        pre = cached[1:, 0] + pad[1]
        pre += pad[2]
        pre += self.bias
        scores = pre.max(axis=-1) @ self.out_w.T
        scores += self.out_b
        best = self.closed_ok[numpy.argmax(scores[:, self.closed_ok], axis=1)]
        best_no_begin = self.closed_no_begin[numpy.argmax(scores[:, self.closed_no_begin], axis=1)]
        offset = 0
        for doc, array in zip(docs, arrays, strict=True):
            n = len(doc)
            if n:
                self._decode(doc, array, cached, offset, best[offset:offset + n], best_no_begin[offset:offset + n])
            offset += n

    def _decode(self, doc: Doc, array: numpy.ndarray, cached: numpy.ndarray, offset: int,
                best: numpy.ndarray, best_no_begin: numpy.ndarray) -> None:
        from spacy.tokens import Span

        n = len(doc)
        sent_start = array[:, 1] == 1
        space = array[:, 2].astype(bool)
        # no B- at the last token nor before a sentence start; nothing but O on whitespace
        cannot_begin = numpy.zeros(n, dtype=bool)
        cannot_begin[-1] = True
        cannot_begin[:-1] |= sent_start[1:]
        action = numpy.where(cannot_begin, best_no_begin, best)
        action[space] = self.out
        starts = numpy.flatnonzero(action != self.out).tolist()
        spans: list[Span] = []
        kind, labels = self.kind, self.labels
        i = 0
        while i < len(starts):
            t = starts[i]
            a = int(action[t])
            if kind[a] == UNIT:
                spans.append(Span(doc, t, t + 1, label=labels[a]))
                i += 1
                continue
            end = self._inside(cached, offset, t, a, n, sent_start)
            spans.append(Span(doc, t, end, label=labels[a]))
            i = bisect.bisect_left(starts, end, i + 1)
        doc.set_ents(spans, default="outside")

    def _inside(self, cached: numpy.ndarray, offset: int, start: int, begin: int, n: int,
                sent_start: numpy.ndarray) -> int:
        """Steps an entity opened at ``start``: the end of its span."""
        in_col, last_col, weights, bias = self.inside[begin]
        first = cached[1 + offset + start, 1]
        t = start + 1
        while t < n - 1 and not sent_start[t + 1]:  # I- is valid: score I- against L-
            pre = cached[1 + offset + t, 0] + first
            pre += cached[offset + t, 2]
            pre += self.bias
            in_score, last_score = weights @ pre.max(axis=-1) + bias
            if last_score > in_score or (last_score == in_score and last_col < in_col):  # spaCy: first best
                return t + 1
            t += 1
        return t + 1

    def _spacy(self, docs: list[Doc]) -> None:
        self.ner.set_annotations(docs, self.ner.predict(docs))
