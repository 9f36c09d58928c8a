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

Here every ParDo partition is one bundle run by Beam's own ``DoFnRunner`` (setup, start, process,
finish, finalize), whose output - including ``finish_bundle``'s - is kept as ``(tag, WindowedValue)``
pairs; each consumer selects its own tag. Each bundle also returns its metric updates, and the run
computes every ParDo's updates at the end, which also makes every branch run. DoFn instances are set up
once per worker thread and run, reused across bundles and torn down when the run ends. Streaming,
splittable and stateful DoFns are refused before anything runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import threading
import uuid
from collections.abc import Iterable
from typing import Any

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.coders import registry as coders_registry
from apache_beam.metrics.execution import MetricsContainer
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.pipeline import AppliedPTransform, PipelineVisitor
from apache_beam.runners.common import DoFnRunner, DoFnSignature, Receiver
from apache_beam.runners.dask.dask_runner import DaskOptions
from apache_beam.runners.dask.overrides import _Create, _Flatten, _GroupByKeyOnly, _Read, _Reshuffle, dask_overrides
from apache_beam.runners.direct.direct_metrics import DirectMetrics
from apache_beam.runners.runner import PipelineResult, PipelineRunner, PipelineState
from apache_beam.runners.worker import statesampler
from apache_beam.transforms.sideinputs import SideInputMap
from apache_beam.transforms.window import GlobalWindow, GlobalWindows
from apache_beam.typehints import trivial_inference
from apache_beam.utils import counters
from apache_beam.utils.timestamp import MIN_TIMESTAMP
from apache_beam.utils.windowed_value import WindowedValue

log = logging.getLogger(__name__)

RUNNER_NAMES = frozenset({"dask", "daskrunner", "pipeline.runners.dask.daskrunner"})
STOCK_RUNNER = "apache_beam.runners.dask.dask_runner.DaskRunner"
PARTITIONS_PER_THREAD = 4  # bundles per worker thread for a Create: small enough for work stealing to balance
_METRICS = "__wirenews_metrics__"  # the tag of a bundle's metric updates among its outputs


class DaskRunnerError(RuntimeError):
    """The pipeline or the cluster cannot run here; nothing has run yet."""


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


# -- worker side: one ParDo partition is one bundle ------------------------------


@dataclasses.dataclass
class _ParDoSpec:
    """Everything a worker needs to run one ParDo's bundles; pickled into each task."""

    run_id: str
    label: str
    fn: beam.DoFn
    args: list
    kwargs: dict
    windowing: Any
    side_inputs: list  # (side input type, view options, window mapping fn), matched to the side bags


class _Collect(Receiver):
    def __init__(self, tag: str | None, into: list) -> None:
        self.tag = tag
        self.into = into

    def receive(self, windowed_value: WindowedValue) -> None:
        self.into.append((self.tag, windowed_value))


class _Outputs(dict):
    """Tag -> receiver, every receiver appending ``(tag, value)`` to one list, emptied per bundle."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list = []

    def __missing__(self, tag: str | None) -> _Collect:
        self[tag] = _Collect(tag, self.items)
        return self[tag]


@dataclasses.dataclass
class _Instance:
    runner: DoFnRunner
    outputs: _Outputs


_instances: dict[tuple[str, str], list[_Instance]] = {}  # (run id, step) -> instances set up and idle
_instances_lock = threading.Lock()


def _acquire(spec: _ParDoSpec, side_values: list) -> _Instance:
    with _instances_lock:
        idle = _instances.setdefault((spec.run_id, spec.label), [])
        if idle:
            return idle.pop()
    outputs = _Outputs()
    sides = [SideInputMap(kind, view, _windowed(values, mapping))
             for (kind, view, mapping), values in zip(spec.side_inputs, side_values, strict=True)]
    runner = DoFnRunner(spec.fn, spec.args, spec.kwargs, sides, spec.windowing, outputs, step_name=spec.label)
    runner.setup()
    return _Instance(runner, outputs)


def _windowed(values: list, mapping: Any) -> list:
    del mapping  # side inputs here are global-window views
    return values


def run_bundle(elements: Iterable[WindowedValue], spec: _ParDoSpec, *side_values: list) -> list:
    """One bundle of one ParDo: ``[(tag, WindowedValue)..., (_METRICS, (step, updates))]``."""
    container = MetricsContainer(spec.label)
    sampler = statesampler.StateSampler("", counters.CounterFactory())
    statesampler.set_current_tracker(sampler)
    try:
        with sampler.scoped_state(spec.label, "process", metrics_container=container):
            instance = _acquire(spec, list(side_values))
            outputs = instance.outputs
            outputs.items.clear()
            instance.runner.start()
            for element in elements:
                instance.runner.process(element)
            instance.runner.finish()  # before the outputs are taken: finish_bundle's output counts
            instance.runner.finalize()
            result = list(outputs.items)
            outputs.items.clear()
    finally:
        statesampler.set_current_tracker(None)
    with _instances_lock:
        _instances.setdefault((spec.run_id, spec.label), []).append(instance)
    result.append((_METRICS, (spec.label, container.get_cumulative())))
    return result


def release_run(run_id: str) -> int:
    """Tear down this worker's DoFn instances of a finished run; run on every worker at the end."""
    with _instances_lock:
        keys = [k for k in _instances if k[0] == run_id]
        released = [inst for k in keys for inst in _instances.pop(k)]
    for inst in released:
        try:
            inst.runner.teardown()
        except Exception:  # noqa: BLE001 - teardown is best effort; the run's work is done
            log.warning("teardown failed", exc_info=True)
    return len(released)


def select(partition: Iterable[tuple], tag: str | None) -> list[WindowedValue]:
    return [value for t, value in partition if t == tag]


def _metrics_of(partition: Iterable[tuple]) -> list:
    return [value for t, value in partition if t == _METRICS]


def _as_list(partition: Iterable[Any]) -> list:
    return list(partition)


def _concat(parts: Iterable[list]) -> list:
    return [x for part in parts for x in part]


def _read_source_bundle(bundles: Iterable[Any]) -> list[WindowedValue]:
    out = []
    for bundle in bundles:
        tracker = bundle.source.get_range_tracker(bundle.start_position, bundle.stop_position)
        out += [v if isinstance(v, WindowedValue) else WindowedValue(v, MIN_TIMESTAMP, [GlobalWindow()])
                for v in bundle.source.read(tracker)]
    return out


class _KeyHash:
    """A stable integer per key (Python's own string hash differs between worker processes)."""

    def __init__(self, coder: Any) -> None:
        self.coder = coder

    def __call__(self, wv: WindowedValue) -> int:
        digest = hashlib.blake2b(self.coder.encode(wv.value[0]), digest_size=8).digest()
        return int.from_bytes(digest, "big")


class _Regroup:
    def __init__(self, coder: Any) -> None:
        self.coder = coder

    def __call__(self, group: tuple[int, list[WindowedValue]]) -> list[WindowedValue]:
        by_key: dict[bytes, tuple[Any, list]] = {}
        for wv in group[1]:
            key, value = wv.value
            by_key.setdefault(self.coder.encode(key), (key, []))[1].append(value)
        return [WindowedValue((k, vs), MIN_TIMESTAMP, [GlobalWindow()]) for k, vs in by_key.values()]


# -- client side: translation and the run ----------------------------------------


def _windowing(pcoll: pvalue.PCollection) -> Any:
    try:
        return pcoll.windowing
    except AttributeError:  # a PCollection the overrides made straight from the pipeline's start (Read)
        return beam.Windowing(GlobalWindows())


class _Translator(PipelineVisitor):
    """Beam leaf transforms -> dask bags of WindowedValues, one bag per PCollection."""

    def __init__(self, run_id: str, npartitions: int | None, partition_size: int | None, threads: int) -> None:
        self.run_id = run_id
        self.npartitions = npartitions
        self.partition_size = partition_size
        self.threads = threads
        self.bags: dict[pvalue.PCollection, Any] = {}
        self.metric_bags: list[Any] = []

    def visit_transform(self, node: AppliedPTransform) -> None:
        import dask.bag as db

        t = node.transform
        inputs = [p for p in node.main_inputs.values() if isinstance(p, pvalue.PCollection)]
        if isinstance(t, beam.ParDo):
            self._pardo(node, self.bags[inputs[0]])
            return
        if isinstance(t, _Create):
            bag = self._create([WindowedValue(v, MIN_TIMESTAMP, [GlobalWindow()]) for v in t.values])
        elif isinstance(t, beam.Impulse):
            bag = db.from_sequence([WindowedValue(b"", MIN_TIMESTAMP, [GlobalWindow()])], npartitions=1)
        elif isinstance(t, _Read):
            splits = list(t.source.split(desired_bundle_size=64 * 1024 * 1024))
            bag = self._create(splits).map_partitions(_read_source_bundle)
        elif isinstance(t, _Flatten):
            bags = [self.bags[p] for p in inputs]
            bag = db.concat(bags) if bags else db.from_sequence([], npartitions=1)
        elif isinstance(t, _Reshuffle):
            bag = self.bags[inputs[0]]  # the partitions a Create made are spread already
        elif isinstance(t, _GroupByKeyOnly):
            bag = self._group_by_key(inputs[0])
        else:
            raise DaskRunnerError(f"{node.full_label}: {type(t).__name__} is not supported on the Dask runner")
        for output in node.outputs.values():
            self.bags[output] = bag

    def _create(self, items: list) -> Any:
        """Items dealt round-robin over the partitions, like the local runner deals a stage's input."""
        import dask.bag as db

        if self.partition_size:
            n = math.ceil(len(items) / self.partition_size)
        else:
            n = self.npartitions or PARTITIONS_PER_THREAD * self.threads
        n = max(1, min(n, len(items)))
        return db.from_sequence([items[i::n] for i in range(n)], npartitions=n).map_partitions(_concat)

    def _pardo(self, node: AppliedPTransform, input_bag: Any) -> None:
        t = node.transform
        signature = DoFnSignature(t.fn)
        if signature.is_splittable_dofn() or signature.is_stateful_dofn():
            raise DaskRunnerError(f"{node.full_label}: splittable and stateful DoFns do not run on the Dask runner")
        # ParDo's args hold placeholders where side inputs go; DoFnRunner fills them in per window.
        args, kwargs = getattr(t, "args", []), getattr(t, "kwargs", {})
        side_bags = [self.bags[si.pvalue] for si in node.side_inputs]
        spec = _ParDoSpec(
            run_id=self.run_id, label=node.full_label, fn=t.fn, args=list(args), kwargs=dict(kwargs),
            windowing=_windowing(next(iter(node.main_inputs.values()))),
            side_inputs=[(type(si), si._view_options(), si._window_mapping_fn) for si in node.side_inputs])
        side_items = [b.reduction(_as_list, _concat) for b in side_bags]
        raw = input_bag.map_partitions(run_bundle, spec, *side_items)
        for tag, output in node.outputs.items():
            self.bags[output] = raw.map_partitions(select, tag)
        self.metric_bags.append(raw.map_partitions(_metrics_of))

    def _group_by_key(self, pcoll: pvalue.PCollection) -> Any:
        key_type = trivial_inference.key_value_types(pcoll.element_type)[0]
        coder = coders_registry.get_coder(key_type).as_deterministic_coder(f"GroupByKey of {pcoll}")
        bag = self.bags[pcoll]
        return bag.groupby(_KeyHash(coder), shuffle="tasks").map(_Regroup(coder)).flatten()


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
        client = ddist.Client(**dask_options)
        try:
            _check_workers(client)
            threads = sum(client.nthreads().values()) or 1
            translator = _Translator(run_id, bag_kwargs.get("npartitions"), bag_kwargs.get("partition_size"),
                                     threads)
            pipeline.visit(translator)
            if not translator.metric_bags:
                raise DaskRunnerError("the pipeline has no ParDo: nothing would run")
            log.info("Dask: %d worker thread(s) at %s", threads, client.scheduler.address)
            # Every ParDo's metrics are computed: that runs every branch, and nothing else comes back.
            future = client.compute(dask.optimize(db.concat(translator.metric_bags))[0])
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
