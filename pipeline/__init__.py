"""Assembling and running the wirenews Beam pipeline: CLI, options, config, graph."""

__version__ = "0.1.0"
