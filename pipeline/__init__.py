"""Assembling and running the wirenews Beam pipeline: CLI, options, config, graph."""

from transforms.resources import product_version

__version__ = product_version()

# Runner names that mean "the local FnApiRunner" (no --runner at all included); kept here, free of Beam imports.
LOCAL_RUNNERS = frozenset({None, "", "DirectRunner", "SwitchingDirectRunner", "FnApiRunner"})
# Runners on this machine, where the launcher may poll first and hand the fetched feeds to the pipeline.
POLL_FIRST_RUNNERS = LOCAL_RUNNERS | {"PrismRunner", "prism",
                                      "apache_beam.runners.portability.prism_runner.PrismRunner"}

# Libraries that log every request or step at INFO: kept at WARNING in the launcher and in Beam's workers.
NOISY_LOGGERS = ("elastic_transport", "urllib3", "apache_beam", "trafilatura")
