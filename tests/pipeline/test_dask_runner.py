"""The Dask runner on a real scheduler and two worker processes: nothing dropped, nothing handed twice.

Each case is one of the ways Beam 2.77's stock DaskRunner loses data (see docs/dask.md). DoFns record
what reaches them as files in a shared folder (the workers run on this machine), with the worker's pid.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.timestamp import MIN_TIMESTAMP
from apache_beam.utils.windowed_value import WindowedValue

from pipeline.runners.dask import DaskRunner, DaskRunnerError
from tests.daskcluster import DaskCluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[DaskCluster]:
    with DaskCluster(workers=2) as c:
        yield c


class Record(beam.DoFn):
    """Writes each element it gets to ``<folder>/<name>/``; counts its set-ups in ``<folder>/setup-<name>``."""

    def __init__(self, folder: str, name: str) -> None:
        self.folder, self.name = folder, name

    def setup(self) -> None:
        Path(self.folder, f"setup-{self.name}-{os.getpid()}-{uuid.uuid4().hex[:6]}").touch()

    def process(self, element):
        out = Path(self.folder, self.name)
        out.mkdir(exist_ok=True)
        (out / uuid.uuid4().hex).write_text(json.dumps([element, os.getpid()]))


class BufferToBundleEnd(beam.DoFn):
    """Emits everything from ``finish_bundle``, as a batching lookup or a bulk writer does."""

    def __init__(self) -> None:
        self.seen = Metrics.counter("test", "buffered")

    def start_bundle(self) -> None:
        self.buffer = []

    def process(self, element):
        self.seen.inc()
        self.buffer.append(element)

    def finish_bundle(self):
        for element in self.buffer:
            yield WindowedValue(element, MIN_TIMESTAMP, [GlobalWindow()])


class SplitEvenOdd(beam.DoFn):
    def process(self, n):
        yield beam.pvalue.TaggedOutput("odd", n) if n % 2 else n


def recorded(folder: Path, name: str) -> list[tuple[object, int]]:
    d = folder / name
    return [tuple(json.loads(f.read_text())) for f in d.iterdir()] if d.is_dir() else []


def run(p: beam.Pipeline):
    result = p.run()
    result.wait_until_finish()
    return result


def dask_pipeline(cluster: DaskCluster, *extra: str) -> beam.Pipeline:
    return beam.Pipeline(runner=DaskRunner(),
                         options=PipelineOptions([f"--dask_client_address={cluster.address}", *extra]))


def test_bundle_end_output_tagged_outputs_and_every_branch_reach_their_consumers(cluster, tmp_path):
    p = dask_pipeline(cluster)
    numbers = p | beam.Create(list(range(40)))
    split = numbers | "Split" >> beam.ParDo(SplitEvenOdd()).with_outputs("odd", main="even")
    split.even | "Even" >> beam.ParDo(Record(str(tmp_path), "even"))
    split.odd | "Odd" >> beam.ParDo(Record(str(tmp_path), "odd"))
    numbers | "Buffer" >> beam.ParDo(BufferToBundleEnd()) | "Buffered" >> beam.ParDo(Record(str(tmp_path), "buffered"))
    result = run(p)

    assert sorted(n for n, _ in recorded(tmp_path, "even")) == list(range(0, 40, 2))
    assert sorted(n for n, _ in recorded(tmp_path, "odd")) == list(range(1, 40, 2))
    assert sorted(n for n, _ in recorded(tmp_path, "buffered")) == list(range(40))
    # Both worker processes did part of the work.
    assert len({pid for _, pid in recorded(tmp_path, "buffered")}) == 2
    counters = {r.key.metric.name: r.committed for r in result.metrics().query()["counters"]}
    assert counters == {"buffered": 40}


def test_setup_runs_once_per_worker_and_group_by_key_side_inputs_and_reads_work(cluster, tmp_path):
    lines = tmp_path / "in.txt"
    lines.write_text("\n".join(f"line {i}" for i in range(30)))
    p = dask_pipeline(cluster)
    words = p | "Words" >> beam.Create(["a", "b", "a", "c", "b", "a"] * 10)
    offset = p | "Offset" >> beam.Create([100])
    (words | beam.Map(lambda w: (w, 1)) | beam.GroupByKey() | beam.MapTuple(lambda k, vs: [k, sum(vs)])
     | "Counts" >> beam.ParDo(Record(str(tmp_path), "counts")))
    (words | "Side" >> beam.Map(lambda w, side: side[0], side=beam.pvalue.AsList(offset))
     | "WithSide" >> beam.ParDo(Record(str(tmp_path), "side")))
    p | beam.io.ReadFromText(str(lines)) | "Lines" >> beam.ParDo(Record(str(tmp_path), "lines"))
    run(p)

    assert sorted(c for c, _ in recorded(tmp_path, "counts")) == [["a", 30], ["b", 20], ["c", 10]]
    assert [v for v, _ in recorded(tmp_path, "side")] == [100] * 60
    assert sorted(v for v, _ in recorded(tmp_path, "lines")) == sorted(f"line {i}" for i in range(30))
    # 60 words in 8 bundles over 2 workers, one thread each: the DoFn is set up once per worker.
    setups = [f.name for f in tmp_path.iterdir() if f.name.startswith("setup-side-")]
    assert 1 <= len(setups) <= 2, setups


def test_a_failing_dofn_fails_the_run_and_streaming_is_refused(cluster):
    p = dask_pipeline(cluster)
    p | beam.Create([1, 2, 3]) | beam.Map(lambda n: 1 // (n - 2))
    with pytest.raises(ZeroDivisionError):
        run(p)

    streaming = dask_pipeline(cluster, "--streaming")
    streaming | beam.Create([1]) | beam.Map(str)
    with pytest.raises(DaskRunnerError, match="batch"):
        streaming.run()


def test_a_scheduler_that_does_not_answer_is_named_before_anything_runs():
    p = beam.Pipeline(runner=DaskRunner(), options=PipelineOptions(
        ["--dask_client_address=tcp://127.0.0.1:1", "--dask_connection_timeout=2"]))
    p | beam.Create([1]) | beam.Map(str)
    with pytest.raises(DaskRunnerError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:1"):
        p.run()
