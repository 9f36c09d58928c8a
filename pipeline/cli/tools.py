"""`wirenews clean` and `wirenews tag`: one stage alone over a text, printed as JSON."""

from __future__ import annotations

import argparse
import json

from pipeline.cli.common import EXIT_OK, read_input
from transforms.cleaning import Cleaner
from transforms.entities import Tagger


def cmd_clean(args: argparse.Namespace) -> int:
    result = Cleaner.from_dir().clean(read_input(args.file), agency=args.source, domain=args.source)
    print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    return EXIT_OK


def cmd_tag(args: argparse.Namespace) -> int:


    text = read_input(args.file)
    result = Tagger.load(model=args.model).tag(args.title or "", text)
    print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    return EXIT_OK
