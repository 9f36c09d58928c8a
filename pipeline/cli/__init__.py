"""The `wirenews` command.

Exit codes: 0 success; 1 some feeds or documents failed; 2 configuration or
connection errors (nothing was fetched).
"""

from __future__ import annotations

import importlib
import sys
from typing import NoReturn

from pipeline.cli.parser import build_parser
from pipeline.logs import setup_logging
from transforms.process_exit import exit_program


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and not getattr(args, "takes_beam_args", False):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    setup_logging(args.log_level, args.log_format)
    module, _, name = args.handler.partition(":")
    # Each command imports its own module here, so it pays only for the libraries it uses.
    handler = getattr(importlib.import_module(f"pipeline.cli.{module}"), name)
    try:
        return handler(args, rest) if getattr(args, "takes_beam_args", False) else handler(args)
    except SystemExit as e:
        return int(e.code or 0)
    except KeyboardInterrupt:
        return 130


def entry() -> NoReturn:
    """The ``wirenews`` program: ``main``, then an exit that skips collecting what the run loaded."""
    exit_program(main())


if __name__ == "__main__":
    entry()
