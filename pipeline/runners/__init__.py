"""Beam options and the choice of runner: one module per runner, chosen here.

Beam's DirectRunner first tries to download the Prism runner from the internet;
offline that costs a failed connection to an outside address on every run. For
the local runner we therefore pick the FnApiRunner directly, the same engine
the DirectRunner falls back to, with the same options; once a Prism binary is
built (pipeline.runners.prism), DirectRunner and PrismRunner run on Prism, which
wirenews starts and stops itself. DaskRunner is wirenews's own corrected Dask
runner (pipeline.runners.dask); Beam's, which loses data, is refused. For
FlinkRunner, pipeline.runners.flink fills in the cached job server jar and the
rest a run needs.
"""

from __future__ import annotations

import argparse
import importlib
import logging
from typing import NoReturn

from apache_beam.options.pipeline_options import (
    DirectOptions,
    PipelineOptions,
    StandardOptions,
    WorkerOptions,
    _BeamArgumentParser,
)
from apache_beam.runners.runner import PipelineRunner

from pipeline import LOCAL_RUNNERS, NOISY_LOGGERS, beam_options
from pipeline.runners import dask, flink, local, prism

log = logging.getLogger(__name__)

EXIT_SETUP = 2  # the CLI's exit code for a problem found before anything runs
# Raised by a runner's run() before anything ran: the CLI exits with EXIT_SETUP.
RunnerRefused = (dask.DaskRunnerError, prism.PrismSetupError)

# Modules whose import registers a runner's own options: Beam knows an option once the PipelineOptions
# subclass declaring it has been imported, and runner modules declare theirs beside the runner. Each is
# imported before an option is refused as unknown; a runner added to wirenews adds its module here.
RUNNER_OPTION_MODULES: tuple[str, ...] = (
    "apache_beam.runners.dask.dask_runner",  # DaskOptions: --dask_client_address, --dask_connection_timeout, ...
)


class BeamOptionError(ValueError):
    """A Beam option with a value Beam's own parser refuses (``--direct_num_workers=two``)."""


class _OptionParser(_BeamArgumentParser):
    """Beam's option parser, raising instead of printing a usage page and exiting."""

    def error(self, message: str) -> NoReturn:
        raise BeamOptionError(message)


def beam_option_parser() -> argparse.ArgumentParser:
    """The parser Beam builds from its option registry (``PipelineOptions.get_all_options``): every
    PipelineOptions subclass imported so far adds its ``_add_argparse_args``."""
    parser = _OptionParser(allow_abbrev=False, add_help=False)
    for cls in {str(c): c for c in PipelineOptions.__subclasses__()}.values():
        cls._add_argparse_args(parser)  # noqa: SLF001 - the registry Beam itself reads
    return parser


def unknown_options(beam_args: list[str]) -> list[str]:
    """The arguments Beam would discard as unparseable ("Discarding unparseable args"), after the runner
    option modules are imported; raises BeamOptionError for a known option with a value Beam refuses."""
    _, unknown = beam_option_parser().parse_known_args(beam_args)
    if unknown:  # runner modules only when needed: the Dask runner's import alone takes about a second
        import_runner_options()
        _, unknown = beam_option_parser().parse_known_args(beam_args)
    if not unknown:
        import_runner_options()
        beam_options.remember(beam_option_parser())  # the next run checks these without importing Beam
    return unknown


def import_runner_options() -> None:
    for module in RUNNER_OPTION_MODULES:
        importlib.import_module(module)


def beam_option_strings() -> list[str]:
    """Every option Beam knows now, for suggestions."""
    return [s for action in beam_option_parser()._actions for s in action.option_strings]


def make_options(beam_args: list[str], *, streaming: bool = False) -> PipelineOptions:
    """Beam's options from the command line, completed for the chosen runner.

    A Flink run that cannot start (no cached job server jar, no suitable Java) exits with code 2 and a
    message saying what to do, before any Java process starts.
    """
    options = PipelineOptions(beam_args)
    worker = options.view_as(WorkerOptions)
    # Worker processes configure their own logging: without this, every Elasticsearch request of every
    # worker prints a line. Levels given with --sdk_harness_log_level_overrides win.
    worker.sdk_harness_log_level_overrides = {**{name: "WARNING" for name in NOISY_LOGGERS},
                                              **(worker.sdk_harness_log_level_overrides or {})}
    if streaming:
        options.view_as(StandardOptions).streaming = True
    direct = options.view_as(DirectOptions)
    if direct.direct_num_workers and direct.direct_num_workers != 1 and direct.direct_running_mode == "in_memory":
        # Several workers only help in separate processes; threads share one GIL.
        direct.direct_running_mode = "multi_processing"
    if flink.is_flink(options):
        try:
            flink.configure(options)
        except flink.FlinkSetupError as e:
            log.error("%s", e)
            raise SystemExit(EXIT_SETUP) from e
    if dask.is_stock(options):
        log.error("--runner=%s: Beam's own Dask runner drops what DoFns emit at bundle end and hands every tagged "
                  "output to every consumer, so stories would be lost; use --runner=DaskRunner, which corrects "
                  "it (docs/dask.md)", dask.STOCK_RUNNER)
        raise SystemExit(EXIT_SETUP)
    if streaming and dask.wanted(options):
        log.error("stream does not run on Dask: the Dask runner runs batch pipelines only; run `wirenews run` "
                  "on Dask from a scheduler (cron, systemd timer), or stream on Prism (--runner=PrismRunner)")
        raise SystemExit(EXIT_SETUP)
    return options


def is_local(options: PipelineOptions) -> bool:
    runner = options.view_as(StandardOptions).runner
    return runner in LOCAL_RUNNERS


def make_runner(options: PipelineOptions) -> PipelineRunner | None:
    """The runner for ``options``; None lets Beam resolve any other (Dataflow, a job endpoint of your own).

    Prism's job server starts here; ``release`` stops it once the run is over.
    """
    if flink.is_flink(options):
        return flink.runner()
    if dask.wanted(options):
        return dask.DaskRunner()
    if prism.wanted(options):
        try:
            return prism.runner(options)
        except prism.PrismSetupError as e:
            log.error("%s", e)
            raise SystemExit(EXIT_SETUP) from e
    if not is_local(options):
        return None
    return local.fn_api_runner(options)


def release() -> None:
    """Stop what ``make_runner`` started for a run (Prism's job server); safe to call when nothing was."""
    prism.stop_all()
