"""The local runner: Beam's FnApiRunner, started directly.

Beam's DirectRunner first tries to download the Prism runner from the internet; offline that costs a
failed connection to an outside address on every run, then falls back to this same FnApiRunner.
"""

from __future__ import annotations

from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.portability.api import beam_provision_api_pb2
from apache_beam.runners.portability.fn_api_runner import fn_runner
from apache_beam.runners.portability.portable_runner import JobServiceHandle


def fn_api_runner(options: PipelineOptions) -> fn_runner.FnApiRunner:
    """An FnApiRunner whose workers see the run's pipeline options (as the DirectRunner would give them)."""
    encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
    provision = fn_runner.ExtendedProvisionInfo(beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded))
    return fn_runner.FnApiRunner(provision_info=provision)
