"""The cleaner on held-out agency copy (tests/data/wire-holdout): no boilerplate left, datelines, reporting kept.

For every case the cleaner gets the text and, when the case names one, the agency a feed would give.

- clean: none of the case's boilerplate snippets is left in the cleaned text;
- dateline parsed: the dateline's location (and date text, when the case gives one) is what the agency wrote;
- reporting kept: at least 95% of the reporting's characters, counted by sentence, are in the cleaned text,
  each sentence whole inside one paragraph (so a hard-wrapped sentence left in pieces counts as lost).

    python bench/bench_wire_holdout.py [--verbose] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from transforms.cleaning import Cleaner  # noqa: E402

CASES = REPO / "tests" / "data" / "wire-holdout" / "holdout.yaml"
GOALS = {"clean": 0.95, "datelines": 0.90, "reporting": 0.97}
_SENTENCE = re.compile(r"(?<=[.!?\u201d\"'])\s+(?=[A-Z\u201c\"(`])")


def _norm(text: str) -> str:
    return " ".join(text.split())


def _sentences(reporting: str) -> list[str]:
    return [s for p in re.split(r"\n\s*\n", reporting.strip()) for s in _SENTENCE.split(_norm(p)) if s]


def score(case: dict, cleaner: Cleaner) -> dict:
    result = cleaner.clean(case["input"], agency=case.get("agency"))
    text = result.text
    paragraphs = [_norm(p) for p in text.split("\n\n")]
    left = [b for b in case.get("boilerplate") or [] if b in text or (b.strip() and b.strip() in paragraphs)]
    sentences = _sentences(case["reporting"])
    kept = sum(len(s) for s in sentences if any(s in p for p in paragraphs))
    total = sum(len(s) for s in sentences) or 1
    want = case.get("dateline")
    got = result.dateline
    if want is None:
        dateline_ok = None
    else:
        dateline_ok = bool(got) and got.get("location") == want.get("location") and (
            want.get("date_text") is None or got.get("date_text") == want.get("date_text"))
    return {"id": case["id"], "clean": not left, "left": left, "kept": kept / total,
            "dateline": dateline_ok, "got_dateline": got, "text": text}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--verbose", action="store_true", help="print every case that misses a goal")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cases = yaml.safe_load(CASES.read_text(encoding="utf-8"))["cases"]
    cleaner = Cleaner.from_dir()
    scores = [score(c, cleaner) for c in cases]
    with_dateline = [s for s in scores if s["dateline"] is not None]
    figures = {
        "cases": len(scores),
        "clean": sum(s["clean"] for s in scores) / len(scores),
        "datelines": sum(s["dateline"] for s in with_dateline) / max(1, len(with_dateline)),
        "reporting": sum(s["kept"] >= 0.95 for s in scores) / len(scores),
        "reporting_chars": sum(s["kept"] for s in scores) / len(scores),
    }
    if args.json:
        print(json.dumps({"figures": figures, "cases": scores}, indent=1, ensure_ascii=False))
        return
    if args.verbose:
        for s in scores:
            if not s["clean"] or s["dateline"] is False or s["kept"] < 0.95:
                print(f"- {s['id']}: left={s['left']} kept={s['kept']:.2f} dateline={s['got_dateline']}")
                print("    " + s["text"].replace("\n", "\n    "))
    print(f"{figures['cases']} held-out cases ({len(with_dateline)} with a dateline)")
    for name in ("clean", "datelines", "reporting"):
        mark = "ok" if figures[name] >= GOALS[name] else "below goal"
        print(f"  {name:10s} {figures[name]:6.1%}  (goal {GOALS[name]:.0%}: {mark})")
    print(f"  reporting characters kept, mean {figures['reporting_chars']:.1%}")


if __name__ == "__main__":
    main()
