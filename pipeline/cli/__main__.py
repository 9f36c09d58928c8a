"""``python -m pipeline.cli``: the wirenews command from a source tree."""

from pipeline.cli import entry

entry()
