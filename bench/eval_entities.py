"""Entity quality on the span-labelled wire paragraphs: raw spaCy NER against wirenews's tagger.

    .venv/bin/python bench/eval_entities.py [--part heldout] [--language en] [--errors]

Entity-level exact matching (start, end and type must all agree), micro-averaged, overall and per type, in the
product's types and in CoNLL-2003's four (PERSON->PER, ORG->ORG, GPE/LOC/FAC->LOC, NORP/EVENT->MISC). Titles and
texts are scored alike. "raw" is the spaCy pipeline of the item's language as it comes (en_core_web_sm for
English; fr_core_news_sm for French, its PER/ORG/LOC labels read as PERSON/ORG/GPE and MISC dropped), every
entity span of a kept type as the model gives it. "wirenews" is every mention ``wirenews tag --mentions`` gives,
with the type of the entity it belongs to.

``--errors`` lists what each system got wrong on the development part only: the held-out part is for measuring.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.entity_spans import CONLL, PARTS, TYPES, Item, Score, Span, load_items, score  # noqa: E402

RAW_MODELS = {"en": "en_core_web_sm", "fr": "fr_core_news_sm"}
# The French pipeline's labels as the product's types (its LOC covers countries and cities, mostly GPE).
RAW_LABELS = {"en": {t: t for t in TYPES}, "fr": {"PER": "PERSON", "ORG": "ORG", "LOC": "GPE"}}


def raw_predictions(items: list[Item], language: str) -> list[list[Span]]:
    """Entity spans of the language's spaCy model, NER alone, as it gives them."""
    from transforms.entities.model import load_nlp

    nlp = load_nlp(RAW_MODELS[language])
    labels = RAW_LABELS[language]
    texts = [text for item in items for text in (item.title, item.text)]
    docs = list(nlp.pipe(texts, batch_size=64))
    out = []
    for index in range(len(items)):
        spans = []
        for field, doc in (("title", docs[2 * index]), ("text", docs[2 * index + 1])):
            spans += [
                Span(field, ent.start_char, ent.end_char, labels[ent.label_], ent.text)
                for ent in doc.ents
                if ent.label_ in labels
            ]
        out.append(spans)
    return out


def wirenews_predictions(items: list[Item], gazetteers: bool = True) -> list[list[Span]]:
    """Every mention the tagger gives, typed as the entity it belongs to; each item's language is its feed's.
    Without ``gazetteers`` the curated lists are left out (the alias table stays): what the rules alone give."""
    from transforms.entities import Tagger
    from transforms.entities.aliases import AliasTable
    from transforms.entities.gazetteer import Gazetteers
    from transforms.entities.model import load_nlp

    tagger = Tagger(load_nlp(), AliasTable.load(), gazetteers=None if gazetteers else Gazetteers.empty())
    results = tagger.tag_mentions([(item.title, item.text) for item in items], hints=[item.language for item in items])
    return [[Span(m["field"], m["start"], m["end"], m["type"], m["text"]) for m in mentions] for mentions in results]


def table(name: str, result: Score, types: list[str]) -> list[str]:
    rows = [f"  {name:9s} {'all':7s} P {result.overall.precision:.3f}  R {result.overall.recall:.3f}  "
            f"F1 {result.overall.f1:.3f}  ({result.overall.tp + result.overall.fn} labelled)"]
    for type_ in types:
        counts = result.by_type.get(type_)
        if counts is None:
            continue
        rows.append(f"  {'':9s} {type_:7s} P {counts.precision:.3f}  R {counts.recall:.3f}  F1 {counts.f1:.3f}  "
                    f"({counts.tp + counts.fn})")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=[*PARTS, "all"], default="heldout")
    parser.add_argument("--language", choices=["en", "fr"], default="en")
    parser.add_argument("--errors", action="store_true", help="list the errors (development part only)")
    parser.add_argument("--system", choices=["raw", "wirenews", "both"], default="both")
    parser.add_argument("--no-gazetteers", action="store_true", help="the tagger without configs/gazetteers")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, force=True)
    if args.errors and args.part != "dev":
        parser.error("--errors reads the development part only (--part dev)")

    parts = PARTS if args.part == "all" else (args.part,)
    items = [item for item in load_items(parts) if item.language == args.language]
    labelled = sum(1 for item in items for span in item.spans if span.type in TYPES)
    print(f"{len(items)} {args.language} items of part {args.part}, {labelled} labelled entities")
    systems = {}
    if args.system in ("raw", "both"):
        systems["raw"] = raw_predictions(items, args.language)
    if args.system in ("wirenews", "both"):
        systems["wirenews"] = wirenews_predictions(items, gazetteers=not args.no_gazetteers)
    for title, mapping, types in (
        ("product types", None, list(TYPES)),
        ("CoNLL mapping", CONLL, ["PER", "ORG", "LOC", "MISC"]),
    ):
        print(f"{title} (exact span and type):")
        for name, predictions in systems.items():
            print("\n".join(table(name, score(items, predictions, mapping), types)))
    if args.errors:
        texts = {item.id: item for item in items}
        for name, predictions in systems.items():
            print(f"\nerrors of {name}:")
            for item_id, kind, span in score(items, predictions).errors:
                source = getattr(texts[item_id], span.field)
                context = source[max(0, span.start - 25) : span.end + 25].replace("\n", " / ")
                print(f"  {item_id} {kind} {span.type:6s} {span.text!r:34s} ...{context}...")
    return 0


if __name__ == "__main__":
    sys.exit(main())
