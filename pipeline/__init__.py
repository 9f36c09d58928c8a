"""Assembling and running the wirenews Beam pipeline: CLI, options, config, graph."""

__version__ = "0.1.0"

# Runner names that mean "the local FnApiRunner" (no --runner at all included); kept here, free of Beam imports.
LOCAL_RUNNERS = frozenset({None, "", "DirectRunner", "SwitchingDirectRunner", "FnApiRunner"})
