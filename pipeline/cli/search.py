"""`wirenews search`: a query over the alias, printed with its facets."""

from __future__ import annotations

import argparse
import json

from pipeline.cli.common import EXIT_OK, connect, load_config_or_exit
from pipeline.elasticsearch.search import build_query, format_results


def cmd_search(args: argparse.Namespace) -> int:
    cfg = load_config_or_exit(args.config)
    client = connect(cfg)
    filters = dict(f.split("=", 1) for f in args.filter or [])
    try:
        resp = client.search(index=cfg.es.index, body=build_query(args.query, size=args.size, filters=filters))
    finally:
        client.close()
    body = resp.body if hasattr(resp, "body") else resp
    print(json.dumps(body, ensure_ascii=False, indent=2) if args.json else format_results(body, args.query))
    return EXIT_OK
