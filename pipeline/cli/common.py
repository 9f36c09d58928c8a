"""What every command shares: exit codes, reading input, the config and the cluster, checked or exit 2."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from pipeline.cli.parser import UsageError
from pipeline.config import Config, ConfigError, load_config
from pipeline.elasticsearch.connection import ConnectionProblem, check_connection
from transforms.elastic import make_client

log = logging.getLogger("wirenews")

EXIT_OK, EXIT_FAILURES, EXIT_CONFIG = 0, 1, 2

__all__ = ["EXIT_CONFIG", "EXIT_FAILURES", "EXIT_OK", "UsageError", "connect", "load_config_or_exit", "log",
           "one_line", "read_input"]


def read_input(path: str | None) -> str:
    """A file's text, or standard input's for ``-``; undecodable bytes become U+FFFD rather than an error."""
    if not path or path == "-":
        return sys.stdin.buffer.read().decode("utf-8", errors="replace")
    try:
        return Path(path).read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, not a file") from None
    except OSError as e:
        raise UsageError(f"{path}: cannot read: {e.strerror or e}") from None


def load_config_or_exit(path: str, *, check_files: bool = True) -> Config:
    """The config, or exit 2 naming the key; ``check_files`` False for commands that never read feeds."""
    try:
        return load_config(path, check_files=check_files)
    except ConfigError as e:
        log.error("configuration error: %s", e)
        raise SystemExit(EXIT_CONFIG) from e


def connect(cfg: Config) -> Any:
    """A checked client, or exit 2 with a message that says what to do."""
    try:
        check_connection(cfg.es)
    except ConnectionProblem as e:
        hint = " (the local node: start it with `wirenews es up`)" if cfg.es.local else ""
        log.error("Elasticsearch: %s%s", e, hint)
        raise SystemExit(EXIT_CONFIG) from e
    return make_client(cfg.es)


def one_line(e: BaseException) -> str:
    """The last line of an error that Beam may have wrapped in pages of worker traceback."""
    lines = [line.strip() for line in str(e).strip().splitlines() if line.strip()]
    return f"{type(e).__name__}: {lines[-1] if lines else ''}"
