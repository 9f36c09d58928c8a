"""Stages 1-3, sources: feeds fetched politely, their state kept, their entries read into Articles.

``ReadFeeds`` is the Beam transform; ``poll_and_store`` and the pieces below it are plain functions the
program's launcher also calls before any pipeline starts.
"""

from __future__ import annotations

from typing import Any

from transforms.sources.feed_state import FeedState, FeedStateStore, StoriesMissing
from transforms.sources.fetch import is_file_source
from transforms.sources.http_client import HttpClient
from transforms.sources.poll import FeedOutcome, Polled, feed_of, host_of, outcome_counters, poll_and_store

__all__ = ["FeedOutcome", "FeedState", "FeedStateStore", "HttpClient", "Polled", "ReadFeeds", "StoriesMissing",
           "feed_of", "host_of", "is_file_source", "outcome_counters", "poll_and_store"]


def __getattr__(name: str) -> Any:
    if name == "ReadFeeds":  # Beam's import (seconds) only for those who build a pipeline
        from transforms.sources.read_feeds import ReadFeeds

        return ReadFeeds
    raise AttributeError(name)
