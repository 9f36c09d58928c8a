"""Beam's option names, remembered per Beam version, so a run checks its options without importing Beam.

Beam knows its options only once its modules are imported, which takes seconds; a pass where no feed
changed never builds a pipeline and would pay that for the check alone. The first full check (in
``pipeline.runners``) writes what Beam's registry holds, every runner's options included, to the
wirenews home; later runs read it. Arguments the record does not vouch for go to the full check, so
the record can only make a run faster, never let a wrong option through.
"""

from __future__ import annotations

import json
import logging
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from pipeline.home import home

log = logging.getLogger(__name__)

FORMAT = 1  # raised when the record's layout changes, so an old record is never misread


def record_path() -> Path:
    try:
        beam = version("apache-beam")
    except PackageNotFoundError:
        beam = "unknown"
    return home() / "beam-options" / f"beam-{beam}-v{FORMAT}.json"


def describe(parser: Any) -> dict[str, dict[str, Any]]:
    """What an argparse parser accepts: per option string, whether it takes a value, its type and choices."""
    out: dict[str, dict[str, Any]] = {}
    for action in parser._actions:  # noqa: SLF001 - argparse keeps no public list of its actions
        kind = "str"
        if action.nargs == 0:
            kind = "flag"
        elif action.type is int:
            kind = "int"
        elif action.type is float:
            kind = "float"
        entry = {"kind": kind, "choices": sorted(map(str, action.choices)) if action.choices else None}
        for option in action.option_strings:
            out[option] = entry
    return out


def remember(parser: Any) -> None:
    """Write the record for this Beam version; a home that cannot be written only loses the speed-up."""
    path = record_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(describe(parser), sort_keys=True))
        tmp.replace(path)
    except OSError as e:
        log.debug("cannot keep Beam's option names in %s: %s", path, e)


def vouched(args: list[str]) -> bool:
    """True when the record knows every option in ``args`` and every value fits it (an int is an int,
    a choice one of the choices); False sends the arguments to Beam's own parser."""
    try:
        known = json.loads(record_path().read_text())
    except (OSError, ValueError):
        return False
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--"):
            return False
        name, eq, value = arg.partition("=")
        entry = known.get(name)
        if entry is None:
            return False
        if entry["kind"] == "flag":
            if eq:
                return False
        else:
            if not eq:
                if i + 1 >= len(args) or args[i + 1].startswith("--"):
                    return False
                i += 1
                value = args[i]
            if not _fits(value, entry):
                return False
        i += 1
    return True


def _fits(value: str, entry: dict[str, Any]) -> bool:
    if entry.get("choices") and value not in entry["choices"]:
        return False
    try:
        if entry["kind"] == "int":
            int(value)
        elif entry["kind"] == "float":
            float(value)
    except ValueError:
        return False
    return True
