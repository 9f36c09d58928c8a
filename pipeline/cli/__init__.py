"""The `wirenews` command.

Exit codes: 0 success; 1 some feeds or documents failed; 2 configuration, connection or usage errors
(nothing was fetched), always as one line naming what was wrong; 141 when the reader of standard output
went away (``wirenews clean FILE | head``), as for any program killed by SIGPIPE.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import sys
from typing import NoReturn

from pipeline import beam_options
from pipeline.cli.parser import Parser, UsageError, build_parser, option_strings
from pipeline.logs import setup_logging
from transforms.process_exit import exit_program

EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 128 + 13  # 128 + SIGPIPE: what a shell reports for a program whose reader closed the pipe


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    try:
        args, rest = parser.parse_known_args(argv)
        setup_logging(args.log_level, args.log_format)  # before Beam's import, which the check may need
        if rest:
            check_leftovers(parser, args, rest)
    except UsageError as e:
        print(e, file=sys.stderr)  # argparse's way: "wirenews run: error: ..." on one line
        return EXIT_USAGE
    module, _, name = args.handler.partition(":")
    # Each command imports its own module here, so it pays only for the libraries it uses.
    handler = getattr(importlib.import_module(f"pipeline.cli.{module}"), name)
    try:
        return handler(args, rest) if getattr(args, "takes_beam_args", False) else handler(args)
    except UsageError as e:
        from pipeline.cli.common import log

        log.error("%s", e)
        return EXIT_USAGE
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except SystemExit as e:
        return int(e.code or 0)
    except KeyboardInterrupt:
        return 130


def check_leftovers(parser: Parser, args: argparse.Namespace, rest: list[str]) -> None:
    """Arguments none of our options took: Beam options for run and stream, refused otherwise, by name."""
    command = parser_of(parser, args.command)
    if not getattr(args, "takes_beam_args", False):
        raise UsageError(f"{command.prog}: error: {_leftover(rest[0])} (see {command.prog} --help)")
    if beam_options.vouched(rest):  # known from an earlier full check of this Beam version: no Beam import
        return
    # Start-up: Beam's option registry (and Beam's import, seconds) only when the record cannot vouch.
    from pipeline.runners import BeamOptionError, beam_option_strings, unknown_options

    try:
        unknown = unknown_options(rest)
    except BeamOptionError as e:
        raise UsageError(f"{command.prog}: error: {e}") from None
    if unknown:
        first = next((a for a in unknown if a.startswith("-")), unknown[0])
        if not first.startswith("-"):
            raise UsageError(f"{command.prog}: error: {_leftover(first)} (see {command.prog} --help)")
        hint = _suggestion(first, option_strings(command) + beam_option_strings())
        raise UsageError(f"{command.prog}: error: {_leftover(first)}: neither a wirenews option nor a Beam "
                         f"pipeline option{hint}")


def parser_of(parser: Parser, command: str) -> argparse.ArgumentParser:
    """The sub-command's own parser (argparse keeps it on the sub-parsers action)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[command]
    return parser


def _leftover(arg: str) -> str:
    return f"unknown option {arg}" if arg.startswith("-") else f"unexpected argument {arg!r}"


def _suggestion(arg: str, known: list[str]) -> str:
    close = difflib.get_close_matches(arg.split("=", 1)[0], known, n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else ""


def _silence_stdout() -> None:
    """The reader of standard output is gone: later writes (the interpreter's last flush) go nowhere."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def entry() -> NoReturn:
    """The ``wirenews`` program: ``main``, then an exit that skips collecting what the run loaded."""
    exit_program(main())


if __name__ == "__main__":
    entry()
