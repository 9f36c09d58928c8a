"""The stream's poller under runner-initiated splits and restarts, against the real Elasticsearch: splits
are refused, and whoever holds the restriction polls each feed once per interval, on the schedule stored
in the feed state."""

from __future__ import annotations

import time
from pathlib import Path

from apache_beam.io.restriction_trackers import OffsetRange
from apache_beam.runners.sdf_utils import RestrictionTrackerView, ThreadsafeRestrictionTracker

from pipeline.stream import MAX_TICKS, PollFeeds, _OnePoller
from transforms.article import FeedSpec
from transforms.elastic import make_client
from transforms.sources import FeedStateStore

FEEDS = (FeedSpec(name="a", url="http://127.0.0.1:9/a.xml", poll_interval=2),
         FeedSpec(name="b", url="http://127.0.0.1:9/b.xml", poll_interval=2))


def test_the_poller_refuses_a_runners_split_but_not_a_checkpoint():
    tracker = _OnePoller(OffsetRange(0, MAX_TICKS))
    assert tracker.try_claim(0)
    assert tracker.try_split(0.5) is None  # Prism's split: refused, one poller goes on
    assert tracker.current_restriction() == OffsetRange(0, MAX_TICKS)
    primary, residual = tracker.try_split(0)  # a checkpoint: the rest resumes later, still one restriction
    assert primary == OffsetRange(0, 1) and residual == OffsetRange(1, MAX_TICKS)


class Holder:
    """One holder of the poller's restriction: a DoFn instance, as a worker sets it up after a split or a
    restart."""

    def __init__(self, stop_file: Path, es_settings) -> None:
        self.fn = PollFeeds(str(stop_file), es_settings, idle_step=0.05)
        self.fn.setup()
        self.tick = 0

    def wake(self) -> list[str]:
        view = RestrictionTrackerView(ThreadsafeRestrictionTracker(_OnePoller(OffsetRange(self.tick, MAX_TICKS))))
        polled = [v.value.name for v in self.fn.process(FEEDS, tracker=view)]
        self.tick += 1
        return polled


def test_whoever_holds_the_restriction_polls_each_feed_once_per_interval(tmp_path, es_settings):
    store = FeedStateStore(make_client(es_settings), es_settings.state_index)
    store.ensure_index()
    first = Holder(tmp_path / "stop", es_settings)
    assert sorted(first.wake()) == ["a", "b"]
    # Resumed elsewhere at once (a split granted by another runner, a restarted worker): the stored
    # schedule says nothing is due yet.
    second = Holder(tmp_path / "stop", es_settings)
    assert second.wake() == [] and first.wake() == []
    time.sleep(2.1)
    # Both wake once the interval is over: each feed is polled by one of them.
    polled = first.wake() + second.wake()
    assert sorted(polled) == ["a", "b"]
    assert first.wake() + second.wake() == []

    (tmp_path / "stop").touch()
    time.sleep(2.1)
    assert first.wake() == []  # stopping: no more polls
