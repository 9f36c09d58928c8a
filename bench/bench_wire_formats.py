"""What each wire format costs per item: reading (detection + the format's reader) and cleaning, one process.

Every file of samples/wire and samples/wire-late is read ``--repeat`` times; the time of a file is split over
its items. Detection is timed apart (it runs once per file whatever the format). Cleaning is timed on the
items the reader produced, so the two columns add up to what a wire item costs before entity tagging.
Figures are microseconds per item on this machine: compare formats with each other within one run.

    python bench/bench_wire_formats.py [--repeat 200] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from transforms.cleaning import Cleaner  # noqa: E402
from transforms.sources.formats import detect_format, read_wire  # noqa: E402

FOLDERS = [REPO / "samples" / "wire", REPO / "samples" / "wire-late"]


def _per_call(fn, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cleaner = Cleaner.from_dir()
    rows: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(p for folder in FOLDERS for p in folder.iterdir() if p.is_file()):
        body = path.read_bytes()
        result = read_wire(body, str(path))
        if not result.items:
            continue
        n = len(result.items)
        fmt = result.format or "?"
        rows[fmt]["detect"].append(_per_call(lambda b=body: detect_format(b), args.repeat) / n)
        rows[fmt]["read"].append(_per_call(lambda b=body, p=path: read_wire(b, str(p)), args.repeat) / n)
        for item in result.items:
            raw = item.body_html or item.summary
            rows[fmt]["clean"].append(_per_call(
                lambda r=raw, i=item: cleaner.clean(r, agency=i.agency, title=i.headline), max(1, args.repeat // 4)))
        rows[fmt]["bytes"].append(len(body) / n)
    table = {fmt: {k: statistics.median(v) for k, v in cols.items()} | {"items": len(cols["clean"])}
             for fmt, cols in sorted(rows.items())}
    if args.json:
        print(json.dumps(table, indent=1))
        return
    print(f"{'format':11s} {'items':>5s} {'bytes/item':>10s} {'detect us':>9s} {'read us':>8s} {'clean us':>9s}"
          f" {'read+clean':>10s}")
    for fmt, t in table.items():
        read_total = t["read"]  # read_wire detects too
        print(f"{fmt:11s} {t['items']:5d} {t['bytes']:10.0f} {t['detect'] * 1e6:9.0f} {read_total * 1e6:8.0f}"
              f" {t['clean'] * 1e6:9.0f} {(read_total + t['clean']) * 1e6:10.0f}")


if __name__ == "__main__":
    main()
