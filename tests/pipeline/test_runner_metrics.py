"""The local runner's per-bundle metrics are merged as each bundle ends: the same totals, no nest of
generators growing with every bundle of a stream."""

from __future__ import annotations

import gc
import itertools
import types

from apache_beam.metrics import monitoring_infos
from apache_beam.runners.portability.fn_api_runner import fn_runner

from pipeline.stream import consolidate_now, keep_runner_metrics_bounded


def bundle_infos(n: int) -> list:
    """What one bundle reports: a counter per step, each ``n``."""
    return [monitoring_infos.int64_user_counter("wirenews", f"step{i}", n, ptransform=f"t{i}") for i in range(3)]


def fold(consolidate, bundles: int):
    """The runner's fold of every bundle's infos into the totals so far (fn_runner.run_stages)."""
    totals = bundle_infos(1)
    for _ in range(bundles - 1):
        totals = consolidate(itertools.chain(bundle_infos(1), totals))
    return totals


def live_generators() -> int:
    gc.collect()
    return sum(isinstance(o, types.GeneratorType) for o in gc.get_objects())


def test_totals_are_the_same_merged_at_once():
    lazy = {monitoring_infos.to_key(m): monitoring_infos.extract_counter_value(m)
            for m in fold(monitoring_infos.consolidate, 50)}
    now = {monitoring_infos.to_key(m): monitoring_infos.extract_counter_value(m) for m in fold(consolidate_now, 50)}
    assert now == lazy and set(now.values()) == {50}


def test_merged_at_once_nothing_grows_with_the_bundles():
    before = live_generators()
    lazy = fold(monitoring_infos.consolidate, 300)
    assert live_generators() - before >= 299  # one generator per bundle after the first, held until read
    del lazy
    before = live_generators()
    now = fold(consolidate_now, 300)
    assert live_generators() - before == 0 and len(now) == 3


def test_the_local_runner_uses_it_once_asked():
    keep_runner_metrics_bounded()
    keep_runner_metrics_bounded()
    assert fn_runner.consolidate_monitoring_infos is consolidate_now
