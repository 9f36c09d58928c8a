"""Cleaning quality and speed.

Quality, over the labelled cases in tests/data/cleaning/: precision and recall of the
removed characters (whitespace ignored), exact-text accuracy, dateline and agency accuracy.
Speed: seeded, generated ~400-word wire articles (HTML and plain text, with datelines and
trailers of several agencies) cleaned in one process, so articles/s is per core.

    python bench/bench_clean.py [--articles 2000] [--seed 7] [--json]
"""

from __future__ import annotations

import argparse
import difflib
import json
import random
import time
from pathlib import Path

from transforms.cleaning.cases import load_cases
from transforms.cleaning.cleaner import Cleaner
from transforms.cleaning.html_text import to_paragraphs

WORDS = (
    "the government said on officials minister talks trade market prices rose fell percent year"
    " first city council police court company shares report new plan people region would could"
    " after before while during since week month Monday Tuesday Wednesday Thursday Friday"
    " economy growth exports imports bank rates inflation budget election vote party leader"
    " president agreement cooperation energy oil gas power water border security army health"
    " hospital school students workers union strike farmers harvest weather storm flood fire"
    " said told added according statement spokesperson official data showed expected about"
    " more than less million billion percent dollars euros yuan and of in to for with by from"
    # Real copy is not all ASCII: curly quotes, dashes and accented names send text through the repair path.
    " \u201cwe \u2019s \u2014 S\u00e3o Paulo Z\u00fcrich M\u00fcller Jos\u00e9 \u00a9"
).split()
TEMPLATES = [
    ("BEIJING, Sept. 3 (Xinhua) -- ", ["Enditem"]),
    ("LONDON, Jan 5 (Reuters) - ", ["(Reporting by Jane Doe; Editing by Mark Roe)"]),
    ("WASHINGTON (AP) \u2014 ", ["___", "Associated Press writer Sam Poe contributed to this report."]),
    ("SEOUL, Jan. 5 (Yonhap) -- ", ["kimjs@yna.co.kr", "(END)"]),
    ("PARIS (AFP) - ", ["jm-sst/ach"]),
    ("", ["Share | Print | E-mail", "Go to Forum >>0 Comment(s)"]),
]


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(12, 26))]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def make_article(rng: random.Random, words: int = 400) -> str:
    """One generated article of about `words` words, as HTML or plain text."""
    lead, trailer = rng.choice(TEMPLATES)
    paragraphs: list[str] = []
    count = 0
    while count < words:
        para = " ".join(_sentence(rng) for _ in range(rng.randint(1, 3)))
        count += len(para.split())
        paragraphs.append(para)
    paragraphs[0] = lead + paragraphs[0]
    paragraphs += trailer
    if rng.random() < 0.5:
        return "".join(f"<p>{p}</p>" for p in paragraphs)
    return "\n\n".join(paragraphs)


def _removed_positions(source: str, kept: str) -> set[int]:
    """Non-space positions of `source` that are not part of `kept` (kept is a subsequence of source)."""
    matcher = difflib.SequenceMatcher(None, source, kept, autojunk=False)
    keep: set[int] = set()
    for block in matcher.get_matching_blocks():
        keep.update(range(block.a, block.a + block.size))
    return {i for i, ch in enumerate(source) if not ch.isspace() and i not in keep}


def quality(cleaner: Cleaner) -> dict[str, float]:
    cases = load_cases(Path(__file__).resolve().parent.parent / "tests" / "data" / "cleaning")
    tp = fp = fn = 0
    exact = dateline_ok = agency_ok = agency_n = 0
    for case in cases:
        source = "\n\n".join(to_paragraphs(case.input))
        result = cleaner.clean(case.input, agency=case.agency, domain=case.domain, title=case.title)
        expected_text = case.expected["text"].strip()
        want = _removed_positions(source, expected_text)
        got = _removed_positions(source, result.text)
        tp += len(want & got)
        fp += len(got - want)
        fn += len(want - got)
        exact += result.text == expected_text
        dateline_ok += result.dateline == case.expected.get("dateline")
        if "agency" in case.expected:
            agency_n += 1
            agency_ok += result.agency == case.expected["agency"]
    n = len(cases)
    return {
        "cases": n,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "exact_text": exact / n,
        "dateline_accuracy": dateline_ok / n,
        "agency_accuracy": agency_ok / agency_n if agency_n else 1.0,
    }


def speed(cleaner: Cleaner, articles: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    corpus = [make_article(rng) for _ in range(articles)]
    words = sum(len(a.split()) for a in corpus)
    for raw in corpus[:50]:  # warm up caches
        cleaner.clean(raw)
    # CPU time of this one process = time on one core, whatever else the machine is running.
    start, wall = time.process_time(), time.perf_counter()
    for raw in corpus:
        cleaner.clean(raw)
    cpu, wall = time.process_time() - start, time.perf_counter() - wall
    return {
        "articles": articles,
        "mean_words": words / articles,
        "cpu_seconds": cpu,
        "wall_seconds": wall,
        "articles_per_s": articles / cpu,
        "words_per_s": words / cpu,
        "articles_per_wall_s": articles / wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cleaner = Cleaner.from_dir()
    report = {"quality": quality(cleaner), "speed": speed(cleaner, args.articles, args.seed)}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    q, s = report["quality"], report["speed"]
    print(f"labelled cases        {q['cases']}")
    print(f"removed-char precision {q['precision']:.4f}")
    print(f"removed-char recall    {q['recall']:.4f}")
    print(f"exact text             {q['exact_text']:.4f}")
    print(f"dateline accuracy      {q['dateline_accuracy']:.4f}")
    print(f"agency accuracy        {q['agency_accuracy']:.4f}")
    print(f"throughput             {s['articles_per_s']:.0f} articles/s per core (CPU time; "
          f"{s['articles_per_wall_s']:.0f}/s wall), {s['words_per_s']:.0f} words/s, "
          f"{s['articles']} articles of ~{s['mean_words']:.0f} words")


if __name__ == "__main__":
    main()
