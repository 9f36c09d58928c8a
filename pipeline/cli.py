"""The `wirenews` command.

Exit codes: 0 success; 1 some feeds or documents failed; 2 configuration or
connection errors (nothing was fetched).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

from pipeline import NOISY_LOGGERS

log = logging.getLogger("wirenews")

EXIT_OK, EXIT_FAILURES, EXIT_CONFIG = 0, 1, 2


class JsonLogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
                 "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class _DropImportNoise(logging.Filter):
    """Beam's import warns about optional Google Cloud clients that wirenews never uses."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("apitools not found")


def setup_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Configure logging before Beam is imported, so its import-time basicConfig is a no-op."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_DropImportNoise())
    handler.setFormatter(JsonLogFormatter() if fmt == "json" else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), handlers=[handler], force=True)
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _read_input(path: str | None) -> str:
    if not path or path == "-":
        return sys.stdin.read()
    return Path(path).read_text(encoding="utf-8", errors="replace")


def _load_config(path: str) -> Any:
    from pipeline.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as e:
        log.error("configuration error: %s", e)
        raise SystemExit(EXIT_CONFIG) from e


def _connect(cfg: Any) -> Any:
    """A checked client, or exit 2 with a message that says what to do."""
    from pipeline.es_client import ConnectionProblem, check_connection, make_client

    try:
        check_connection(cfg.es)
    except ConnectionProblem as e:
        hint = " (the local node: start it with `wirenews es up`)" if cfg.es.local else ""
        log.error("Elasticsearch: %s%s", e, hint)
        raise SystemExit(EXIT_CONFIG) from e
    return make_client(cfg.es)


# -- subcommands -----------------------------------------------------------------


def cmd_run(args: argparse.Namespace, beam_args: list[str]) -> int:
    from pipeline import prepoll

    cfg = _prepare(args)
    log.info("run: %d feed(s) from %s", len(cfg.feeds), cfg.path)
    started = time.monotonic()
    first = prepoll.prepoll(cfg) if prepoll.applies(beam_args) else None
    if first is not None and not first.pipeline_needed:
        log.info("run: no feed has changed; nothing for the pipeline to do")
        return _finish(args, cfg, None, started, first.counters)
    import apache_beam as beam

    from pipeline.graph import build_batch
    from pipeline.runner import make_options, make_runner

    options = make_options(beam_args)
    p = beam.Pipeline(runner=make_runner(options), options=options)
    build_batch(p, cfg, [*first.handed, *first.remaining] if first is not None else None)
    result = _execute(p)
    _commit_feed_state(cfg)
    return _finish(args, cfg, result, started, first.counters if first is not None else ())


def _prepare(args: argparse.Namespace) -> Any:
    """Config checked, cluster reachable, template, index and alias in place: before any feed is fetched."""
    from pipeline.bootstrap import bootstrap, ensure_aux_indices

    cfg = _load_config(args.config)
    client = _connect(cfg)
    try:
        index = bootstrap(client, cfg.es.index)
        ensure_aux_indices(client, cfg.es)
        log.info("writing to %s (index %s) on %s", cfg.es.index, index, ", ".join(cfg.es.hosts))
    except Exception as e:  # noqa: BLE001 - any failure here is a cluster problem, reported before fetching
        log.error("Elasticsearch: cannot prepare %s: %s", cfg.es.index, _one_line(e))
        log.debug("bootstrap failure", exc_info=True)
        raise SystemExit(EXIT_CONFIG) from e
    finally:
        client.close()
    return cfg


def _one_line(e: BaseException) -> str:
    """The last line of an error that Beam may have wrapped in pages of worker traceback."""
    lines = [line.strip() for line in str(e).strip().splitlines() if line.strip()]
    return f"{type(e).__name__}: {lines[-1] if lines else ''}"


def _execute(p: Any) -> Any:
    """Run the pipeline; a failure inside it ends the run with exit 1 and a one-line reason."""
    try:
        result = p.run()
        result.wait_until_finish()
    except Exception as e:  # noqa: BLE001 - reported, then the process exits non-zero
        log.error("run failed: %s", _one_line(e))
        log.debug("pipeline failure", exc_info=True)
        log.error("feed state was not committed: the next run reads those feeds again, nothing is lost")
        raise SystemExit(EXIT_FAILURES) from e
    return result


def _commit_feed_state(cfg: Any) -> None:
    """The run's articles are indexed: the feed state it learnt becomes current."""
    from pipeline.es_client import make_client
    from transforms.feed_state import FeedStateStore

    client = make_client(cfg.es)
    try:
        n = FeedStateStore(client, cfg.es.state_index, max_retries=cfg.es.max_retries).commit_pending()
        log.info("feed state committed for %d feed(s)", n)
    except Exception as e:  # noqa: BLE001
        log.error("feed state not committed: %s; the next run reads those feeds again, nothing is lost",
                  _one_line(e))
        raise SystemExit(EXIT_FAILURES) from e
    finally:
        client.close()


def _finish(args: argparse.Namespace, cfg: Any, result: Any, started: float,
            counters: Iterable[tuple[str, str, int]] = ()) -> int:
    """Summary and exit code; ``result`` None when no pipeline ran, ``counters`` from outside the pipeline."""
    from pipeline.summary import render, summarize

    summary = summarize(result.metrics().query() if result is not None else {}, [f.name for f in cfg.feeds],
                        counters)
    print(render(summary, time.monotonic() - started), flush=True)
    if args.summary_json:
        Path(args.summary_json).write_text(json.dumps(summary.to_json(), indent=2))
    failed = summary.feeds_failed + summary.dead_lettered
    if failed > args.max_failures:
        log.warning("%d feed(s) failed and %d document(s) were dead-lettered", summary.feeds_failed,
                    summary.dead_lettered)
        return EXIT_FAILURES
    return EXIT_OK


def cmd_stream(args: argparse.Namespace, beam_args: list[str]) -> int:
    import signal
    import tempfile

    import apache_beam as beam
    from apache_beam.options.pipeline_options import DirectOptions

    from pipeline.runner import is_local, make_options, make_runner
    from pipeline.stream import build_stream

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
    started = time.monotonic()
    p = beam.Pipeline(runner=make_runner(options), options=options)
    build_stream(p, cfg, stop_file)
    result = _execute(p)
    _commit_feed_state(cfg)
    Path(stop_file).unlink(missing_ok=True)
    Path(stop_dir).rmdir()
    return _finish(args, cfg, result, started)


def cmd_search(args: argparse.Namespace) -> int:
    from pipeline.search import build_query, format_results

    cfg = _load_config(args.config)
    client = _connect(cfg)
    filters = dict(f.split("=", 1) for f in args.filter or [])
    try:
        resp = client.search(index=cfg.es.index, body=build_query(args.query, size=args.size, filters=filters))
    finally:
        client.close()
    body = resp.body if hasattr(resp, "body") else resp
    print(json.dumps(body, ensure_ascii=False, indent=2) if args.json else format_results(body, args.query))
    return EXIT_OK


def cmd_clean(args: argparse.Namespace) -> int:
    from transforms.clean import Cleaner

    result = Cleaner.from_dir().clean(_read_input(args.file), agency=args.source, domain=args.source)
    print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    return EXIT_OK


def cmd_tag(args: argparse.Namespace) -> int:
    from transforms.entities import Tagger

    text = _read_input(args.file)
    title = args.title or ""
    result = Tagger.load(model=args.model).tag(title, text)
    print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    return EXIT_OK


def cmd_es(args: argparse.Namespace) -> int:
    from pipeline.local_es import LocalEs, LocalEsError

    es = LocalEs.from_env(port=args.port, data_dir=args.data_dir)
    try:
        if args.action == "up":
            print(es.up())
        elif args.action == "down":
            print("stopped" if es.down() else "not running")
        else:
            health = es.health()
            if health is None:
                print(f"not answering at {es.url}")
                return 1
            print(f"{es.url} answers: cluster {health.get('cluster_name')} status {health.get('status')}")
    except LocalEsError as e:
        log.error("%s", e)
        return EXIT_CONFIG
    return EXIT_OK


def cmd_kibana(args: argparse.Namespace) -> int:
    import os

    from pipeline import kibana

    alias = _load_config(args.config).es.index if args.config else None
    if args.action == "export":
        sys.stdout.write(kibana.export_objects(alias=alias))
        return EXIT_OK
    try:
        result = kibana.import_objects(args.url, api_key=os.environ.get("WIRENEWS_KIBANA_API_KEY"),
                                       username=os.environ.get("WIRENEWS_ES_USERNAME"),
                                       password=os.environ.get("WIRENEWS_ES_PASSWORD"),
                                       ca_certs=os.environ.get("WIRENEWS_ES_CA_CERTS"), alias=alias)
    except kibana.KibanaError as e:
        log.error("Kibana import failed: %s", e)
        return EXIT_FAILURES
    print(json.dumps(result, indent=2))
    return EXIT_OK


def cmd_index(args: argparse.Namespace) -> int:
    """Index versions: bootstrap (idempotent), status, or migrate to a new version behind the alias."""
    from pipeline.bootstrap import bootstrap, migrate, write_index

    cfg = _load_config(args.config)
    client = _connect(cfg)
    try:
        if args.action == "bootstrap":
            print(bootstrap(client, cfg.es.index))
        elif args.action == "migrate":
            print(migrate(client, cfg.es.index))
        else:
            current = write_index(client, cfg.es.index)
            print(f"{cfg.es.index} -> {current or '(not created yet)'}")
    finally:
        client.close()
    return EXIT_OK


def cmd_config(args: argparse.Namespace) -> int:
    cfg = _load_config(args.config)
    print(f"{cfg.path}: ok — {len(cfg.feeds)} feed(s), index {cfg.es.index} on {', '.join(cfg.es.hosts)}"
          f"{' (local node)' if cfg.es.local else ''}, auth {cfg.es.auth_kind}")
    return EXIT_OK


# -- argument parsing ------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    common.add_argument("--log-format", default="text", choices=["text", "json"])

    ap = argparse.ArgumentParser(prog="wirenews", description="Wire news from feeds to Elasticsearch.")
    sub = ap.add_subparsers(dest="command", required=True)

    for name, help_text in (("run", "one batch pass over every feed, then exit"),
                            ("stream", "poll feeds on their schedules and index until SIGINT/SIGTERM")):
        cmd = sub.add_parser(name, parents=[common], help=help_text,
                             epilog="Other arguments are Beam pipeline options, e.g. --direct_num_workers=2.")
        cmd.add_argument("-c", "--config", required=True)
        cmd.add_argument("--max-failures", type=int, default=0,
                         help="failed feeds plus dead-lettered documents tolerated before exit code 1 (default 0)")
        cmd.add_argument("--summary-json", help="also write the summary as JSON to this file")

    search = sub.add_parser("search", parents=[common], help="search the index, with facets")
    search.add_argument("-c", "--config", required=True)
    search.add_argument("query")
    search.add_argument("--json", action="store_true", help="print Elasticsearch's response as JSON")
    search.add_argument("--size", type=int, default=5)
    search.add_argument("--filter", action="append", metavar="FACET=VALUE",
                        help="e.g. --filter agency=xinhua --filter person='Xi Jinping'")

    clean = sub.add_parser("clean", parents=[common], help="cleaning alone: prints JSON")
    clean.add_argument("--source", help="agency or site whose rule pack applies (else detected)")
    clean.add_argument("file", nargs="?", default="-")

    tag = sub.add_parser("tag", parents=[common], help="entity tagging alone: prints JSON")
    tag.add_argument("--title", default="")
    tag.add_argument("--model", default="en_core_web_sm")
    tag.add_argument("file", nargs="?", default="-")

    es = sub.add_parser("es", parents=[common], help="a local Elasticsearch managed by the project")
    es.add_argument("action", choices=["up", "down", "status"])
    es.add_argument("--port", type=int, default=None, help="HTTP port (default 9200 or WIRENEWS_ES_PORT)")
    es.add_argument("--data-dir", default=None, help="data directory (default under WIRENEWS_HOME)")

    kib = sub.add_parser("kibana", parents=[common], help="the Kibana saved objects")
    kib.add_argument("action", choices=["export", "import"])
    kib.add_argument("--url", default="http://127.0.0.1:5601", help="Kibana's URL for import")
    kib.add_argument("-c", "--config", help="point the data view at this config's index alias")

    idx = sub.add_parser("index", parents=[common], help="the versioned index behind the alias")
    idx.add_argument("action", choices=["status", "bootstrap", "migrate"],
                     help="migrate: a new version with the current template, documents copied, alias switched")
    idx.add_argument("-c", "--config", required=True)

    config = sub.add_parser("config", parents=[common], help="configuration tools")
    config.add_argument("action", choices=["check"])
    config.add_argument("-c", "--config", required=True)
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and args.command not in ("run", "stream"):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    setup_logging(args.log_level, args.log_format)
    try:
        if args.command == "run":
            return cmd_run(args, rest)
        if args.command == "stream":
            return cmd_stream(args, rest)
        return {"search": cmd_search, "clean": cmd_clean, "tag": cmd_tag, "es": cmd_es, "kibana": cmd_kibana,
                "index": cmd_index, "config": cmd_config}[args.command](args)
    except SystemExit as e:
        return int(e.code or 0)
    except KeyboardInterrupt:
        return 130


def entry() -> NoReturn:
    """The ``wirenews`` program: ``main``, then an exit that skips collecting what the run loaded."""
    from transforms.process_exit import exit_program

    exit_program(main())


if __name__ == "__main__":
    entry()
