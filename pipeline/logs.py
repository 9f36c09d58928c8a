"""Logging for the program and its Beam workers: one handler, text or JSON lines, noisy libraries quiet."""

from __future__ import annotations

import json
import logging
import sys

from pipeline import NOISY_LOGGERS


class JsonLogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
                 "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class _DropImportNoise(logging.Filter):
    """Beam's import warns about optional Google Cloud clients that wirenews never uses."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("apitools not found")


def setup_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Configure logging before Beam is imported, so its import-time basicConfig is a no-op."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_DropImportNoise())
    handler.setFormatter(JsonLogFormatter() if fmt == "json" else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), handlers=[handler], force=True)
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
