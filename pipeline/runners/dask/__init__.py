"""A Beam runner for batch pipelines on a dask.distributed cluster, correcting Beam 2.77's ``DaskRunner``.

Beam's own runner (``apache_beam.runners.dask``) translates each transform into a ``dask.bag`` operation
the same way, but as shipped it loses data:

1. it collects a bundle's output *before* calling ``finish_bundle``, so what a DoFn emits at bundle end
   (a batching lookup, a bulk writer's dead letters, a poller draining its fetch threads) is dropped;
2. it strips the tag of every tagged output and hands all of a ParDo's outputs to every consumer, so each
   branch of a multi-output ParDo sees the other branches' elements too;
3. it computes only the last transform's bag, so a branch that does not feed the last transform never runs;
4. ``metrics()`` raises ``NotImplementedError``;
5. it runs ``setup``/``teardown`` once per partition (the NER model loaded per partition) and deals a
   ``Create`` of fewer than 128 elements to one partition, i.e. one worker;
6. windows and timestamps are dropped between ParDos, and unknown leaf transforms (``Impulse``,
   ``Read``) silently become no-ops.

Here (``translate``) consecutive ParDos are fused into stages as Beam runners do, and each partition of
a stage is one bundle (``bundle``) run by Beam's own ``DoFnRunner`` (setup, start, process, finish,
finalize): elements flow from step to step as they are emitted, and the output - ``finish_bundle``'s
included - is kept as ``((step, tag), WindowedValue)`` pairs, each consumer outside the stage selecting
its own. Each bundle also returns its metric updates; the run computes every stage's, which also makes
every branch run. A ``Create`` is dealt into one bundle per worker thread. DoFns are set up once per worker
thread and run, reused across bundles and torn down when the run ends; each worker process first gets
glibc's own malloc thresholds back (``malloc``), which a Dask nanny's environment turns off. Streaming,
splittable and stateful DoFns are refused before anything runs, and so is a cluster whose workers run
another wirenews or Beam than the launcher.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.runners.dask.dask_runner import DaskOptions
from apache_beam.runners.dask.overrides import dask_overrides
from apache_beam.runners.direct.direct_metrics import DirectMetrics
from apache_beam.runners.runner import PipelineResult, PipelineRunner, PipelineState

from pipeline.runners.dask.bundle import release_run
from pipeline.runners.dask.malloc import restore_thresholds
from pipeline.runners.dask.translate import DaskRunnerError, Translation

__all__ = ["DaskRunner", "DaskRunnerError", "is_stock", "versions", "wanted"]

log = logging.getLogger(__name__)

RUNNER_NAMES = frozenset({"dask", "daskrunner", "pipeline.runners.dask.daskrunner"})
STOCK_RUNNER = "apache_beam.runners.dask.dask_runner.DaskRunner"


def wanted(options: PipelineOptions) -> bool:
    """``--runner=DaskRunner`` (or ``dask``, or this class's path)."""
    return str(options.view_as(StandardOptions).runner or "").lower() in RUNNER_NAMES


def is_stock(options: PipelineOptions) -> bool:
    """Beam's own DaskRunner named by its path: it cannot keep a run's outputs (see the module's docstring)."""
    return str(options.view_as(StandardOptions).runner or "").lower() == STOCK_RUNNER.lower()


def versions() -> dict[str, str]:
    """What a process runs: checked on every worker against the launcher before a run."""
    from importlib.metadata import version

    from pipeline import __version__

    return {"wirenews": __version__, "apache-beam": version("apache-beam")}


class DaskRunner(PipelineRunner):
    """Batch pipelines on a dask.distributed cluster (``--dask_client_address``), nothing dropped."""

    def run_pipeline(self, pipeline: beam.Pipeline, options: PipelineOptions) -> DaskRunResult:
        import dask
        import dask.bag as db
        import dask.distributed as ddist

        if options.view_as(StandardOptions).streaming:
            raise DaskRunnerError("the Dask runner runs batch pipelines only")
        dask_options = options.view_as(DaskOptions).get_all_options(drop_default=True, current_only=True)
        bag_kwargs = DaskOptions._extract_bag_kwargs(dask_options)
        run_id = uuid.uuid4().hex
        pipeline.replace_all(dask_overrides())
        try:
            client = ddist.Client(**dask_options)
        except OSError as e:  # the scheduler does not answer within --dask_connection_timeout
            raise DaskRunnerError(f"cannot reach the Dask scheduler at {dask_options.get('address')}: {e}") from e
        try:
            _check_workers(client)
            threads = sum(client.nthreads().values()) or 1
            translation = Translation(pipeline, run_id, threads=threads, npartitions=bag_kwargs.get("npartitions"),
                                      partition_size=bag_kwargs.get("partition_size"))
            if not translation.metric_bags:
                raise DaskRunnerError("the pipeline has no ParDo: nothing would run")
            log.info("Dask: %d worker thread(s) at %s", threads, client.scheduler.address)
            # Every stage's metrics are computed: that runs every branch, and nothing else comes back.
            future = client.compute(dask.optimize(db.concat(translation.metric_bags))[0])
        except BaseException:
            client.close()
            raise
        return DaskRunResult(client, future, run_id)


def _check_workers(client: Any) -> None:
    """Every worker runs the launcher's wirenews and Beam, or the run is refused before anything runs."""
    if not client.nthreads():
        raise DaskRunnerError(f"no Dask worker is connected to {client.scheduler.address}")
    try:
        found = client.run(versions)
    except Exception as e:  # noqa: BLE001 - typically: the workers cannot import wirenews at all
        raise DaskRunnerError(f"the Dask workers cannot run wirenews ({type(e).__name__}: {e}); install the "
                              "same wirenews on every worker (docs/dask.md)") from e
    mine = versions()
    wrong = {worker: v for worker, v in found.items() if v != mine}
    if wrong:
        worker, theirs = next(iter(wrong.items()))
        raise DaskRunnerError(f"{len(wrong)} Dask worker(s) run other versions than this launcher ({mine}), e.g. "
                              f"{worker}: {theirs}; install the same wirenews on every worker (docs/dask.md)")
    # Each bundle does it too (a worker the nanny restarts mid-run); here it is also said where it happened.
    restored = client.run(restore_thresholds)
    if any(restored.values()):
        log.info("Dask: glibc's malloc thresholds set back on %d of %d worker(s) (pipeline/runners/dask/malloc.py)",
                 sum(restored.values()), len(restored))


class DaskRunResult(PipelineResult):
    def __init__(self, client: Any, future: Any, run_id: str) -> None:
        super().__init__(PipelineState.RUNNING)
        self.client = client
        self.future = future
        self.run_id = run_id
        self._metrics = DirectMetrics()

    def wait_until_finish(self, duration: int | None = None) -> str:
        if self._state != PipelineState.RUNNING:
            return self._state
        try:
            updates = self.future.result(timeout=duration / 1000 if duration else None)
            for _step, update in updates:  # each partition's one successful run: attempted and committed
                self._metrics.commit_physical(None, update)
                self._metrics.commit_logical(None, update)
            self._state = PipelineState.DONE
        except BaseException:
            self._state = PipelineState.FAILED
            raise
        finally:
            self._close()
        return self._state

    def _close(self) -> None:
        try:
            self.client.run(release_run, self.run_id)
        except Exception:  # noqa: BLE001 - the workers drop the instances when they restart anyway
            log.warning("Dask: could not release the run's DoFn instances on the workers", exc_info=True)
        self.client.close()

    def cancel(self) -> str:
        self.future.cancel()
        self._close()
        self._state = PipelineState.CANCELLED
        return self._state

    def metrics(self) -> DirectMetrics:
        return self._metrics
