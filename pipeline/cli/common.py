"""What every command shares: exit codes, reading input, the config and the cluster, checked or exit 2."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from pipeline.config import Config, ConfigError, load_config
from pipeline.elasticsearch.connection import ConnectionProblem, check_connection
from transforms.elastic import make_client

log = logging.getLogger("wirenews")

EXIT_OK, EXIT_FAILURES, EXIT_CONFIG = 0, 1, 2


def read_input(path: str | None) -> str:
    if not path or path == "-":
        return sys.stdin.read()
    return Path(path).read_text(encoding="utf-8", errors="replace")


def load_config_or_exit(path: str) -> Config:
    try:
        return load_config(path)
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
