"""Beam options and the choice of runner.

Beam's DirectRunner first tries to download the Prism runner from the internet;
offline that costs a failed connection to an outside address on every run. For
the local runner we therefore pick the FnApiRunner directly, the same engine
the DirectRunner falls back to, with the same options.
"""

from __future__ import annotations

from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions
from apache_beam.runners.runner import PipelineRunner

LOCAL_RUNNERS = {None, "", "DirectRunner", "SwitchingDirectRunner", "FnApiRunner"}


def make_options(beam_args: list[str], *, streaming: bool = False) -> PipelineOptions:
    options = PipelineOptions(beam_args)
    if streaming:
        options.view_as(StandardOptions).streaming = True
    direct = options.view_as(DirectOptions)
    if direct.direct_num_workers and direct.direct_num_workers != 1 and direct.direct_running_mode == "in_memory":
        # Several workers only help in separate processes; threads share one GIL.
        direct.direct_running_mode = "multi_processing"
    return options


def is_local(options: PipelineOptions) -> bool:
    runner = options.view_as(StandardOptions).runner
    return runner in LOCAL_RUNNERS


def make_runner(options: PipelineOptions) -> PipelineRunner | None:
    """The FnApiRunner for the local case; None lets Beam resolve any other runner by name."""
    if not is_local(options):
        return None
    from apache_beam.portability.api import beam_provision_api_pb2
    from apache_beam.runners.portability.fn_api_runner import fn_runner
    from apache_beam.runners.portability.portable_runner import JobServiceHandle

    encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
    provision = fn_runner.ExtendedProvisionInfo(beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded))
    return fn_runner.FnApiRunner(provision_info=provision)
