"""The command line: every command, its arguments and their help, and the function that runs it.

Handlers are named as ``module:function`` and imported only when their command runs, so each command
pays for the libraries it uses and no others (Beam and spaCy take seconds each to import).
"""

from __future__ import annotations

import argparse

from pipeline import __version__

RUN_EPILOG = "Other arguments are Beam pipeline options, e.g. --direct_num_workers=2 or --runner=PrismRunner."


def _config(parser: argparse.ArgumentParser, *, required: bool = True, help_text: str | None = None) -> None:
    parser.add_argument("-c", "--config", required=required, metavar="CONFIG",
                        help=help_text or "the YAML config: elasticsearch, feeds, fetch")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        type=str.upper, help="how much to log on stderr (default INFO)")
    common.add_argument("--log-format", default="text", choices=["text", "json"],
                        help="log lines as text or as JSON objects (default text)")

    ap = argparse.ArgumentParser(prog="wirenews", description="Wire news from feeds to Elasticsearch.")
    ap.add_argument("--version", action="version", version=f"wirenews {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for name, handler, help_text in (("run", "run:cmd_run", "one batch pass over every feed, then exit"),
                                     ("stream", "run:cmd_stream",
                                      "poll feeds on their schedules and index until SIGINT/SIGTERM")):
        cmd = sub.add_parser(name, parents=[common], help=help_text, description=help_text, epilog=RUN_EPILOG)
        _config(cmd)
        cmd.add_argument("--max-failures", type=int, default=0,
                         help="failed feeds plus dead-lettered documents tolerated before exit code 1 (default 0)")
        cmd.add_argument("--summary-json", metavar="FILE", help="also write the summary as JSON to this file")
        cmd.set_defaults(handler=handler, takes_beam_args=True)

    search = sub.add_parser("search", parents=[common], help="search the index, with facets")
    _config(search)
    search.add_argument("query", help="words to find in title, summary and body (Elasticsearch query syntax)")
    search.add_argument("--json", action="store_true", help="print Elasticsearch's response as JSON")
    search.add_argument("--size", type=int, default=5, help="how many hits to show (default 5)")
    search.add_argument("--stories", action="store_true",
                        help="one hit per story (its copies collapsed), with the number of copies")
    search.add_argument("--filter", action="append", metavar="FACET=VALUE",
                        help="e.g. --filter agency=xinhua --filter person='Xi Jinping'")
    search.set_defaults(handler="search:cmd_search")

    clean = sub.add_parser("clean", parents=[common], help="cleaning alone: prints JSON")
    clean.add_argument("--source", help="agency or site whose rule pack applies (else detected)")
    clean.add_argument("file", nargs="?", default="-", help="an article's text or HTML (default: standard input)")
    clean.set_defaults(handler="tools:cmd_clean")

    tag = sub.add_parser("tag", parents=[common], help="entity tagging alone: prints JSON")
    tag.add_argument("--title", default="", help="the article's title, tagged with the body")
    tag.add_argument("--model", default="en_core_web_sm", help="the spaCy model (default en_core_web_sm)")
    tag.add_argument("file", nargs="?", default="-", help="the text to tag (default: standard input)")
    tag.set_defaults(handler="tools:cmd_tag")

    es = sub.add_parser("es", parents=[common], help="a local Elasticsearch managed by the project")
    es.add_argument("action", choices=["up", "down", "status"], help="start, stop, or say whether it answers")
    es.add_argument("--port", type=int, default=None, help="HTTP port (default 9200 or WIRENEWS_ES_PORT)")
    es.add_argument("--data-dir", default=None, help="data directory (default under WIRENEWS_HOME)")
    es.set_defaults(handler="node:cmd_es")

    kib = sub.add_parser("kibana", parents=[common], help="the Kibana saved objects")
    kib.add_argument("action", choices=["export", "import"], help="print them as NDJSON, or import them into Kibana")
    kib.add_argument("--url", default="http://127.0.0.1:5601", help="Kibana's URL for import")
    _config(kib, required=False, help_text="point the data view at this config's index alias")
    kib.set_defaults(handler="admin:cmd_kibana")

    idx = sub.add_parser("index", parents=[common], help="the versioned index behind the alias")
    idx.add_argument("action", choices=["status", "bootstrap", "migrate"],
                     help="migrate: a new version with the current template, documents copied, alias switched")
    _config(idx)
    idx.set_defaults(handler="admin:cmd_index")

    config = sub.add_parser("config", parents=[common], help="configuration tools")
    config.add_argument("action", choices=["check"], help="check: validate the config without running anything")
    _config(config)
    config.set_defaults(handler="admin:cmd_config")
    return ap
