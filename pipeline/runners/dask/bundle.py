"""The worker side: one partition of a fused stage of ParDos is one bundle, run by Beam's own DoFnRunner.

A stage is a tree of ParDos (``Step``s) fused the way Beam runners fuse them: elements go from a step to
the steps that consume its outputs as they are emitted, so a DoFn that reads ahead (ReadFeeds) keeps
fetching while the steps after it tag and index. Each step's outputs that a consumer outside the stage
needs are kept as ``((step, tag), WindowedValue)`` pairs; ``finish_bundle`` runs step by step, upstream
first, so what a step emits there reaches the steps after it before they finish, and the outputs are taken
only after the last one. The bundle also returns each step's metric updates.

A worker keeps a stage's DoFns set up for the rest of the run (one set per concurrent bundle) and tears
them down when the launcher calls ``release_run`` at the end: the NER model loads once per worker thread.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading
from collections.abc import Iterable
from typing import Any

import apache_beam as beam
from apache_beam.metrics.execution import MetricsContainer
from apache_beam.runners.common import DoFnRunner, Receiver
from apache_beam.runners.worker import statesampler
from apache_beam.transforms.sideinputs import SideInputMap
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils import counters
from apache_beam.utils.timestamp import MIN_TIMESTAMP
from apache_beam.utils.windowed_value import WindowedValue

from pipeline.runners.dask.malloc import restore_thresholds

log = logging.getLogger(__name__)

METRICS = "__wirenews_metrics__"  # the key of a bundle's metric updates among its outputs


@dataclasses.dataclass
class Step:
    """One ParDo of a stage: what ``DoFnRunner`` needs, where its outputs go inside the stage, which leave it."""

    label: str
    fn: beam.DoFn
    args: list
    kwargs: dict
    windowing: Any
    side_inputs: list  # (stage side argument index, side input type, view options)
    targets: dict = dataclasses.field(default_factory=dict)  # tag -> indices of the steps consuming it
    exports: set = dataclasses.field(default_factory=set)  # tags a consumer outside the stage reads


@dataclasses.dataclass
class StageSpec:
    """A fused stage: steps in topological order, ``steps[0]`` reading the stage's input; pickled per task."""

    run_id: str
    label: str
    steps: list[Step]


class _Forward(Receiver):
    """A step's output for one tag: kept for consumers outside the stage, and handed to the steps in it."""

    def __init__(self, stage: _StageInstance, step: int, tag: str | None) -> None:
        self.stage, self.key = stage, (step, tag)
        self.export = tag in stage.spec.steps[step].exports
        self.targets = stage.spec.steps[step].targets.get(tag, [])

    def receive(self, windowed_value: WindowedValue) -> None:
        if self.export:
            self.stage.items.append((self.key, windowed_value))
        for target in self.targets:
            with self.stage.states[target]:
                self.stage.runners[target].process(windowed_value)


class _Receivers(dict):
    def __init__(self, stage: _StageInstance, step: int) -> None:
        super().__init__()
        self.stage, self.step = stage, step

    def __missing__(self, tag: str | None) -> _Forward:
        self[tag] = _Forward(self.stage, self.step, tag)
        return self[tag]


class _StageInstance:
    """A stage's DoFns set up once, wired to each other; its bundle state is reset by ``run_stage``."""

    def __init__(self, spec: StageSpec, side_values: list) -> None:
        self.spec = spec
        self.items: list = []
        self.states: list = []
        self.runners: list[DoFnRunner] = []
        for i, step in enumerate(spec.steps):
            sides = [SideInputMap(kind, view, side_values[arg]) for arg, kind, view in step.side_inputs]
            runner = DoFnRunner(step.fn, step.args, step.kwargs, sides, step.windowing, _Receivers(self, i),
                                step_name=step.label)
            runner.setup()
            self.runners.append(runner)


_instances: dict[tuple[str, str], list[_StageInstance]] = {}  # (run id, stage) -> instances set up and idle
_instances_lock = threading.Lock()


def run_stage(elements: Iterable[WindowedValue], spec: StageSpec, *side_values: list) -> list:
    """One bundle: ``[((step, tag), WindowedValue)..., (METRICS, [(step label, updates)...])]``."""
    restore_thresholds()  # before the first DoFn allocates anything: see malloc.py
    key = (spec.run_id, spec.label)
    containers = [MetricsContainer(step.label) for step in spec.steps]
    sampler = statesampler.StateSampler("", counters.CounterFactory())
    statesampler.set_current_tracker(sampler)
    try:
        states = [sampler.scoped_state(step.label, "process", metrics_container=c)
                  for step, c in zip(spec.steps, containers, strict=True)]
        with _instances_lock:
            idle = _instances.get(key)
            stage = idle.pop() if idle else None
        if stage is None:
            with states[0]:
                stage = _StageInstance(spec, list(side_values))
        stage.items, stage.states = [], states
        for runner, state in zip(stage.runners, states, strict=True):
            with state:
                runner.start()
        for element in elements:
            with states[0]:
                stage.runners[0].process(element)
        for runner, state in zip(stage.runners, states, strict=True):  # upstream first: its output flows on
            with state:
                runner.finish()
        for runner in stage.runners:
            runner.finalize()
        result, stage.items, stage.states = stage.items, [], []
    finally:
        statesampler.set_current_tracker(None)
    with _instances_lock:
        _instances.setdefault(key, []).append(stage)
    result.append((METRICS, [(step.label, c.get_cumulative()) for step, c in zip(spec.steps, containers,
                                                                                 strict=True)]))
    return result


def release_run(run_id: str) -> int:
    """Tear down this worker's DoFns of a finished run; the launcher runs it on every worker at the end."""
    with _instances_lock:
        keys = [k for k in _instances if k[0] == run_id]
        released = [stage for k in keys for stage in _instances.pop(k)]
    for stage in released:
        for runner in stage.runners:
            try:
                runner.teardown()
            except Exception:  # noqa: BLE001 - teardown is best effort; the run's work is done
                log.warning("teardown failed", exc_info=True)
    return len(released)


# -- small functions the translated bags map over ---------------------------------


def select(partition: Iterable[tuple], key: Any) -> list[WindowedValue]:
    return [value for k, value in partition if k == key]


def metrics_of(partition: Iterable[tuple]) -> list:
    return [update for k, updates in partition if k == METRICS for update in updates]


def as_list(partition: Iterable[Any]) -> list:
    return list(partition)


def concat(parts: Iterable[list]) -> list:
    return [x for part in parts for x in part]


def read_source_bundles(bundles: Iterable[Any]) -> list[WindowedValue]:
    out = []
    for bundle in bundles:
        tracker = bundle.source.get_range_tracker(bundle.start_position, bundle.stop_position)
        out += [v if isinstance(v, WindowedValue) else WindowedValue(v, MIN_TIMESTAMP, [GlobalWindow()])
                for v in bundle.source.read(tracker)]
    return out


class KeyHash:
    """A stable integer per key (Python's own string hash differs between worker processes)."""

    def __init__(self, coder: Any) -> None:
        self.coder = coder

    def __call__(self, wv: WindowedValue) -> int:
        return int.from_bytes(hashlib.blake2b(self.coder.encode(wv.value[0]), digest_size=8).digest(), "big")


class Regroup:
    """A hash group back into one ``(key, values)`` element per key."""

    def __init__(self, coder: Any) -> None:
        self.coder = coder

    def __call__(self, group: tuple[int, list[WindowedValue]]) -> list[WindowedValue]:
        by_key: dict[bytes, tuple[Any, list]] = {}
        for wv in group[1]:
            key, value = wv.value
            by_key.setdefault(self.coder.encode(key), (key, []))[1].append(value)
        return [WindowedValue((k, vs), MIN_TIMESTAMP, [GlobalWindow()]) for k, vs in by_key.values()]
