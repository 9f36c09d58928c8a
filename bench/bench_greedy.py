"""The greedy decoder (``transforms/entities/greedy.py``) against spaCy's own NER loop: the same entities?
and the CPU of each, side by side on the same docs.

    .venv/bin/python bench/bench_greedy.py [--articles 2000] [--repeat 3]

Sets: the bench corpus cleaned as the pipeline cleans it (titles and bodies), the labelled paragraphs
(English and French), real publishers' pages (``../shared/corpora/articles/fundus``, read in place, skipped
when absent). For each set: docs whose entities differ (span and label) between the decoder and spaCy's
loop over the same model, and against spaCy as it comes (thinc's own ops). Then ``--repeat`` times, in
alternating order: CPU seconds of the whole model (tokenizer excluded: the docs are made first) with spaCy's
loop, with the decoder, and spaCy as it comes, in this one process.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_ner import FUNDUS, cleaned_texts, fundus_bodies, load_average, texts_of  # noqa: E402

BATCH = 64
LOOP = "spaCy's loop"


def spans(docs: Any) -> list[list[tuple[int, int, str]]]:
    return [[(e.start, e.end, e.label_) for e in doc.ents] for doc in docs]


def differing(a: list[Any], b: list[Any]) -> int:
    return sum(x != y for x, y in zip(a, b, strict=True))


def main(argv: list[str] | None = None) -> int:
    from bench.entity_spans import load_items
    from transforms.entities.greedy import decoder_for, pipe
    from transforms.entities.model import MODELS, load_nlp

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    sets = {"corpus": ("en", texts_of(cleaned_texts(args.articles, 50)))}
    for language in ("en", "fr"):
        sets[f"labelled {language}"] = (language, [t for i in load_items() if i.language == language
                                                   for t in (i.title, i.text)])
    if FUNDUS.is_dir():
        sets["fundus (real pages)"] = ("en", fundus_bodies())
    models = {lang: (load_nlp(MODELS[lang]), load_nlp(MODELS[lang], matmul=False)) for lang in ("en", "fr")}
    for name, (lang, texts) in sets.items():
        nlp, plain = models[lang]
        ours = spans(pipe(nlp, texts, BATCH, decoder_for(nlp)))
        loop, as_it_comes = spans(nlp.pipe(texts, batch_size=BATCH)), spans(plain.pipe(texts, batch_size=BATCH))
        print(f"{name}: {len(texts)} docs, {sum(map(len, ours))} entities; docs differing from spaCy's loop "
              f"{differing(ours, loop)}, from spaCy as it comes {differing(ours, as_it_comes)}", flush=True)

    nlp, plain = models["en"]
    docs_texts = sets["corpus"][1]
    ner, plain_ner, decoder = nlp.get_pipe("ner"), plain.get_pipe("ner"), decoder_for(nlp)
    runs = {
        LOOP: lambda docs: list(ner.pipe(docs, batch_size=BATCH)),
        "greedy decoder": lambda docs: list(decoder.pipe(docs, BATCH)),
        "spaCy as it comes": lambda docs: list(plain_ner.pipe(docs, batch_size=BATCH)),
    }
    cpu: dict[str, list[float]] = {key: [] for key in runs}
    for repeat in range(args.repeat):
        order = list(runs) if repeat % 2 == 0 else list(reversed(runs))
        for key in order:
            docs = [nlp.make_doc(t) for t in docs_texts]
            started = time.process_time()
            runs[key](docs)
            cpu[key].append(time.process_time() - started)
        print(f"repeat {repeat + 1}: " + ", ".join(f"{k} {cpu[k][-1]:.1f} CPU-s" for k in runs)
              + f"; load {load_average()}", flush=True)
    mid = {k: statistics.median(v) for k, v in cpu.items()}
    print(f"median CPU-s over {len(docs_texts)} docs: " + ", ".join(f"{k} {v:.1f}" for k, v in mid.items())
          + f"; spaCy's loop / decoder {mid[LOOP] / mid['greedy decoder']:.2f}x, "
          f"as it comes / decoder {mid['spaCy as it comes'] / mid['greedy decoder']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
