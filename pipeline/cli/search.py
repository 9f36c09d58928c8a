"""`wirenews search`: a query over the alias, printed with its facets."""

from __future__ import annotations

import argparse
import json

from pipeline.cli.common import EXIT_OK, connect, load_config_or_exit
from pipeline.elasticsearch.search import build_query, format_results
from transforms.stories import StoryStore


def cmd_search(args: argparse.Namespace) -> int:
    cfg = load_config_or_exit(args.config)
    client = connect(cfg)
    filters = dict(f.split("=", 1) for f in args.filter or [])
    try:
        resp = client.search(index=cfg.es.index, body=build_query(args.query, size=args.size, filters=filters,
                                                                  stories=args.stories))
        body = resp.body if hasattr(resp, "body") else resp
        stories = None
        if args.stories:
            ids = [h["_source"]["story"]["id"] for h in body["hits"]["hits"]
                   if (h.get("_source", {}).get("story") or {}).get("id")]
            stories = StoryStore(client, cfg.es.index).stories(ids)
    finally:
        client.close()
    if args.json:
        print(json.dumps(body if stories is None else {**body, "stories": stories}, ensure_ascii=False, indent=2))
    else:
        print(format_results(body, args.query, stories))
    return EXIT_OK
