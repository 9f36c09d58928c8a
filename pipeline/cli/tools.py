"""`wirenews clean` and `wirenews tag`: one stage alone over a text, printed as JSON.

``wirenews tag`` also reads JSON Lines (one ``{"text", "title", "language"}`` object per line) and prints one
JSON line per line in, with the model loaded once: how entity quality is measured over a labelled set.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from pipeline.cli.common import EXIT_FAILURES, EXIT_OK, UsageError, log, read_input
from transforms.cleaning import Cleaner
from transforms.entities import Tagger

BATCH = 64  # JSON Lines items per pass of the model


def cmd_clean(args: argparse.Namespace) -> int:
    result = Cleaner.from_dir().clean(read_input(args.file), agency=args.source, domain=args.source)
    print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    return EXIT_OK


def cmd_tag(args: argparse.Namespace) -> int:
    text = read_input(args.file)
    try:
        tagger = Tagger.load(model=args.model)  # once, for every line of JSON Lines input too
    except OSError as e:  # the model is missing or fails its check: the message says what to install
        raise UsageError(f"--model {args.model}: {e}") from None
    lines = json_lines(text)
    if lines is None:
        item = (args.title or "", text)
        result, mentions = tagger.analyse([item], hints=[args.language])[0]
        out = result.to_json() | ({"mentions": mentions} if args.mentions else {})
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return EXIT_OK
    failed = 0
    for start in range(0, len(lines), BATCH):
        batch = lines[start : start + BATCH]
        good = [(n, item) for n, item in batch if not isinstance(item, str)]
        results = iter(tagger.analyse([(i.get("title") or "", i.get("text") or "") for _, i in good],
                                      hints=[i.get("language") for _, i in good]))
        for number, item in batch:
            if isinstance(item, str):  # the reason the line is no item: said in its place, the rest go on
                failed += 1
                log.error("line %d: %s", number, item)
                print(json.dumps({"line": number, "error": item}, ensure_ascii=False))
                continue
            result, mentions = next(results)
            out = result.to_json() | ({"mentions": mentions} if args.mentions else {})
            print(json.dumps(out, ensure_ascii=False))
    return EXIT_FAILURES if failed else EXIT_OK


def json_lines(text: str) -> list[tuple[int, dict[str, Any] | str]] | None:
    """(line number, item or why it is none) per non-empty line when ``text`` is JSON Lines of
    ``{"text", "title", "language"}`` objects; None for plain text (its first line is no such object)."""
    rows = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not rows or not rows[0][1].lstrip().startswith("{"):
        return None
    out: list[tuple[int, dict[str, Any] | str]] = []
    for number, line in rows:
        try:
            item = json.loads(line)
        except ValueError as e:
            out.append((number, f"not JSON: {e}"))
            continue
        if not isinstance(item, dict) or not isinstance(item.get("text", ""), str) or "text" not in item:
            out.append((number, 'expected an object with a "text" string (and optional "title", "language")'))
            continue
        out.append((number, item))
    if isinstance(out[0][1], str) and len(out) == 1:
        return None  # one line that only looks like JSON: plain text
    return out
