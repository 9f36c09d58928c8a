"""The launcher side: a Beam pipeline as dask bags of WindowedValues, ParDos fused into stages.

Consecutive ParDos are fused into one stage (one task per partition) when the PCollection between them
is read by ParDos only; a stage's bag holds ``((step, tag), value)`` pairs and each PCollection a
consumer outside the stage reads is a selection of them. Every stage also yields its metric updates:
computing those for every stage runs every branch of the pipeline, and nothing else travels back.
"""

from __future__ import annotations

import math
from typing import Any

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.coders import registry as coders_registry
from apache_beam.pipeline import AppliedPTransform, PipelineVisitor
from apache_beam.runners.common import DoFnSignature
from apache_beam.runners.dask.overrides import _Create, _Flatten, _GroupByKeyOnly, _Read, _Reshuffle
from apache_beam.transforms.window import GlobalWindow, GlobalWindows
from apache_beam.typehints import trivial_inference
from apache_beam.utils.timestamp import MIN_TIMESTAMP
from apache_beam.utils.windowed_value import WindowedValue

from pipeline.runners.dask import bundle
from pipeline.runners.dask.bundle import StageSpec, Step

# Bundles per worker thread for a Create: one, dealt round-robin as the local runner deals its workers' shares.
# Smaller bundles each start idle until their first feed is read (the fetch threads' read-ahead ends with the
# bundle), and whichever runs last leaves the other workers idle: on 2 workers, 2,000 stories, four per thread
# left one worker idle 4.8-11.3 s at the end and each bundle waited about 0.5 s; with one, both end together.
# ``--dask_npartitions`` sets more on a cluster whose machines differ in speed, for work stealing to balance.
PARTITIONS_PER_THREAD = 1


class DaskRunnerError(RuntimeError):
    """The pipeline or the cluster cannot run here; nothing has run yet."""


class _Leaves(PipelineVisitor):
    def __init__(self) -> None:
        self.nodes: list[AppliedPTransform] = []

    def visit_transform(self, node: AppliedPTransform) -> None:
        self.nodes.append(node)


def _windowing(pcoll: pvalue.PCollection) -> Any:
    try:
        return pcoll.windowing
    except AttributeError:  # a PCollection the overrides made straight from the pipeline's start (Read)
        return beam.Windowing(GlobalWindows())


class Translation:
    """The bags of one pipeline: ``metrics`` is what the run computes."""

    def __init__(self, pipeline: beam.Pipeline, run_id: str, *, threads: int, npartitions: int | None = None,
                 partition_size: int | None = None) -> None:
        self.run_id = run_id
        self.threads, self.npartitions, self.partition_size = threads, npartitions, partition_size
        leaves = _Leaves()
        pipeline.visit(leaves)
        self.order = leaves.nodes
        self.bags: dict[pvalue.PCollection, Any] = {}
        self.metric_bags: list[Any] = []
        self.stage_of = self._plan()
        for node in self.order:
            self._translate(node)

    # -- which ParDos run together -------------------------------------------------

    def _plan(self) -> dict[AppliedPTransform, AppliedPTransform]:
        """Each ParDo -> the root of its stage."""
        position = {node: i for i, node in enumerate(self.order)}
        readers: dict[pvalue.PCollection, list[tuple[AppliedPTransform, bool]]] = {}
        for node in self.order:
            for p in node.main_inputs.values():
                readers.setdefault(p, []).append((node, True))
            for si in node.side_inputs:
                readers.setdefault(si.pvalue, []).append((node, False))
        root: dict[AppliedPTransform, AppliedPTransform] = {}
        for node in self.order:
            if not isinstance(node.transform, beam.ParDo):
                continue
            signature = DoFnSignature(node.transform.fn)
            if signature.is_splittable_dofn() or signature.is_stateful_dofn():
                raise DaskRunnerError(f"{node.full_label}: splittable and stateful DoFns do not run on the "
                                      "Dask runner")
            main = next(iter(node.main_inputs.values()))
            producer = main.producer
            stage = root.get(producer)
            fusable = stage is not None and all(
                is_main and isinstance(reader.transform, beam.ParDo) for reader, is_main in readers[main]) and all(
                position[si.pvalue.producer] < position[stage] and root.get(si.pvalue.producer) is not stage
                for si in node.side_inputs)
            root[node] = stage if fusable else node
        self.readers = readers
        return root

    # -- bags --------------------------------------------------------------------------

    def _translate(self, node: AppliedPTransform) -> None:
        import dask.bag as db

        t = node.transform
        inputs = [p for p in node.main_inputs.values() if isinstance(p, pvalue.PCollection)]
        if isinstance(t, beam.ParDo):
            if self.stage_of[node] is node:
                self._stage(node, self.bags[inputs[0]])
            return
        if isinstance(t, _Create):
            bag = self._create([WindowedValue(v, MIN_TIMESTAMP, [GlobalWindow()]) for v in t.values])
        elif isinstance(t, beam.Impulse):
            bag = db.from_sequence([WindowedValue(b"", MIN_TIMESTAMP, [GlobalWindow()])], npartitions=1)
        elif isinstance(t, _Read):
            bag = self._create(list(t.source.split(desired_bundle_size=64 * 1024 * 1024)))
            bag = bag.map_partitions(bundle.read_source_bundles)
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
        return db.from_sequence([items[i::n] for i in range(n)], npartitions=n).map_partitions(bundle.concat)

    def _stage(self, root: AppliedPTransform, input_bag: Any) -> None:
        members = [n for n in self.order if self.stage_of.get(n) is root]
        index = {node: i for i, node in enumerate(members)}
        side_pcolls: list[pvalue.PCollection] = []
        steps = []
        for node in members:
            sides = []
            for si in node.side_inputs:
                if si.pvalue not in side_pcolls:
                    side_pcolls.append(si.pvalue)
                sides.append((side_pcolls.index(si.pvalue), type(si), si._view_options()))
            # ParDo's args hold placeholders where side inputs go; DoFnRunner fills them in per window.
            steps.append(Step(label=node.full_label, fn=node.transform.fn, args=list(node.transform.args),
                              kwargs=dict(node.transform.kwargs), side_inputs=sides,
                              windowing=_windowing(next(iter(node.main_inputs.values())))))
        for node, step in zip(members, steps, strict=True):
            for tag, output in node.outputs.items():
                inside = [index[r] for r, _ in self.readers.get(output, []) if r in index]
                if inside:
                    step.targets[tag] = inside
                if len(inside) < len(self.readers.get(output, [])):
                    step.exports.add(tag)
        spec = StageSpec(self.run_id, root.full_label, steps)
        side_items = [self.bags[p].reduction(bundle.as_list, bundle.concat) for p in side_pcolls]
        raw = input_bag.map_partitions(bundle.run_stage, spec, *side_items)
        for node, step in zip(members, steps, strict=True):
            for tag in step.exports:
                self.bags[node.outputs[tag]] = raw.map_partitions(bundle.select, (index[node], tag))
        self.metric_bags.append(raw.map_partitions(bundle.metrics_of))

    def _group_by_key(self, pcoll: pvalue.PCollection) -> Any:
        key_type = trivial_inference.key_value_types(pcoll.element_type)[0]
        coder = coders_registry.get_coder(key_type).as_deterministic_coder(f"GroupByKey of {pcoll}")
        grouped = self.bags[pcoll].groupby(bundle.KeyHash(coder), shuffle="tasks")
        return grouped.map(bundle.Regroup(coder)).flatten()
