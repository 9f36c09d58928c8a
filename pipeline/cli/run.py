"""`wirenews run` and `wirenews stream`: the pipeline, its feed-state commit, the summary and the exit code."""

from __future__ import annotations

import argparse
import json
import signal
import tempfile
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pipeline import prepoll
from pipeline.cli.common import (
    EXIT_CONFIG,
    EXIT_FAILURES,
    EXIT_OK,
    connect,
    load_config_or_exit,
    log,
    one_line,
)
from pipeline.config import Config
from pipeline.elasticsearch.bootstrap import bootstrap, ensure_aux_indices
from pipeline.elasticsearch.tally import tally
from pipeline.summary import render, summarize
from transforms.elastic import make_client
from transforms.sink import reached_index
from transforms.sources import FeedStateStore, StoriesMissing


def cmd_run(args: argparse.Namespace, beam_args: list[str]) -> int:
    cfg = _prepare(args)
    log.info("run: %d feed(s) from %s", len(cfg.feeds), cfg.path)
    started, started_at = time.monotonic(), datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory(prefix="wirenews-handed-") as spool:
        first = prepoll.prepoll(cfg, spool=Path(spool)) if prepoll.applies(beam_args) else None
        if first is not None and not first.pipeline_needed:
            log.info("run: no feed has changed; nothing for the pipeline to do")
            return _finish(args, cfg, {}, started, first.counters)
        metrics = _run_pipeline(cfg, beam_args, first)
    counters = first.counters if first is not None else []
    if metrics is None:
        counters = [*counters, *tally(cfg, started_at)]
    _commit_feed_state(cfg)
    return _finish(args, cfg, metrics or {}, started, counters)


def _run_pipeline(cfg: Config, beam_args: list[str], first: prepoll.Prepoll | None) -> dict[str, Any] | None:
    """The batch pipeline over what the prepoll left (all of ``cfg.feeds`` without one); its metrics."""
    # Start-up: Beam's import (seconds) is paid only once the prepoll has found work for the pipeline.
    import apache_beam as beam

    from pipeline.graph import build_batch
    from pipeline.runners import make_options, make_runner

    options = make_options(beam_args)
    p = beam.Pipeline(runner=make_runner(options), options=options)
    build_batch(p, cfg, [*first.handed, *first.remaining] if first is not None else None)
    return _execute(p)


def cmd_stream(args: argparse.Namespace, beam_args: list[str]) -> int:
    # Start-up: as for run, Beam's import is kept out of the commands that never build a pipeline.
    import apache_beam as beam
    from apache_beam.options.pipeline_options import DirectOptions

    from pipeline.graph import build_stream
    from pipeline.runners import is_local, make_options, make_runner

    cfg = _prepare(args)
    options = make_options(beam_args, streaming=True)
    if is_local(options):
        direct = options.view_as(DirectOptions)
        if (direct.direct_num_workers or 1) != 1:
            # The local runner drops a deferred restriction when it splits work over several workers.
            log.warning("stream on the local runner uses one worker; --direct_num_workers=%s ignored",
                        direct.direct_num_workers)
        direct.direct_num_workers = 1
        direct.direct_running_mode = "in_memory"
    stop_dir = tempfile.mkdtemp(prefix="wirenews-stream-")
    stop_file = str(Path(stop_dir) / "stop")

    def request_stop(signum: int, _frame: object) -> None:
        log.info("%s received: finishing the current poll, then stopping", signal.Signals(signum).name)
        Path(stop_file).touch()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, request_stop)
    log.info("stream: %d feed(s) from %s; stop with SIGTERM or Ctrl-C", len(cfg.feeds), cfg.path)
    started, started_at = time.monotonic(), datetime.now(timezone.utc)
    p = beam.Pipeline(runner=make_runner(options), options=options)
    build_stream(p, cfg, stop_file)
    metrics = _execute(p)
    counters = tally(cfg, started_at) if metrics is None else []
    _commit_feed_state(cfg)
    Path(stop_file).unlink(missing_ok=True)
    Path(stop_dir).rmdir()
    return _finish(args, cfg, metrics or {}, started, counters)


def _prepare(args: argparse.Namespace) -> Config:
    """Config checked, cluster reachable, template, index and alias in place: before any feed is fetched."""
    cfg = load_config_or_exit(args.config)
    client = connect(cfg)
    try:
        index = bootstrap(client, cfg.es.index)
        ensure_aux_indices(client, cfg.es)
        log.info("writing to %s (index %s) on %s", cfg.es.index, index, ", ".join(cfg.es.hosts))
    except Exception as e:  # noqa: BLE001 - any failure here is a cluster problem, reported before fetching
        log.error("Elasticsearch: cannot prepare %s: %s", cfg.es.index, one_line(e))
        log.debug("bootstrap failure", exc_info=True)
        raise SystemExit(EXIT_CONFIG) from e
    finally:
        client.close()
    return cfg


def _execute(p: Any) -> dict[str, Any] | None:
    """Run the pipeline and return its metrics (None: the runner reports none); a failure inside it ends
    the run with exit 1 and a one-line reason.

    A runner that refuses the pipeline or its cluster before anything runs ends it with exit 2. A job
    server started for the run (Prism) is stopped here, once its metrics are read, whatever happened.
    """
    from pipeline.runners import RunnerRefused, release

    try:
        result = p.run()
        result.wait_until_finish()
        try:
            return result.metrics().query()
        except Exception as e:  # noqa: BLE001 - e.g. Beam's stock runners that have no metrics yet
            log.warning("the runner reports no metrics (%s): the summary counts what Elasticsearch holds",
                        one_line(e))
            return None
    except RunnerRefused as e:
        log.error("%s", e)
        raise SystemExit(EXIT_CONFIG) from e
    except Exception as e:  # noqa: BLE001 - reported, then the process exits non-zero
        log.error("run failed: %s", one_line(e))
        log.debug("pipeline failure", exc_info=True)
        log.error("feed state was not committed: the next run reads those feeds again, nothing is lost")
        raise SystemExit(EXIT_FAILURES) from e
    finally:
        release()


def _commit_feed_state(cfg: Config) -> None:
    """The run's articles are indexed: the feed state it learnt becomes current.

    Only for feeds whose passed-on stories are all in the index or the dead letters, whatever the runner
    reported: a runner that lost some leaves those feeds pending (exit 1), and the next run reads them again.
    """
    client = make_client(cfg.es)
    try:
        n = FeedStateStore(client, cfg.es.state_index, max_retries=cfg.es.max_retries).commit_pending(
            reached=lambda ids: reached_index(client, cfg.es.index, cfg.es.deadletter_index, ids))
        log.info("feed state committed for %d feed(s)", n)
    except StoriesMissing as e:
        log.error("feed state committed for %d feed(s) only: %s", e.committed, e)
        raise SystemExit(EXIT_FAILURES) from e
    except Exception as e:  # noqa: BLE001
        log.error("feed state not committed: %s; the next run reads those feeds again, nothing is lost",
                  one_line(e))
        raise SystemExit(EXIT_FAILURES) from e
    finally:
        client.close()


def _finish(args: argparse.Namespace, cfg: Config, metrics: dict[str, Any], started: float,
            counters: Iterable[tuple[str, str, int]] = ()) -> int:
    """Summary and exit code; ``metrics`` of the pipeline ({} when none ran), ``counters`` from outside it."""
    summary = summarize(metrics, [f.name for f in cfg.feeds], counters)
    print(render(summary, time.monotonic() - started), flush=True)
    if args.summary_json:
        Path(args.summary_json).write_text(json.dumps(summary.to_json(), indent=2))
    failed = summary.feeds_failed + summary.dead_lettered
    if failed > args.max_failures:
        log.warning("%d feed(s) failed and %d document(s) were dead-lettered", summary.feeds_failed,
                    summary.dead_lettered)
        return EXIT_FAILURES
    return EXIT_OK
