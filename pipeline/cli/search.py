"""`wirenews search`: a query over the alias, printed with its facets; by story with ``--stories``."""

from __future__ import annotations

import argparse
import json

from elasticsearch import NotFoundError

from pipeline.cli.common import EXIT_OK, UsageError, connect, load_config_or_exit
from pipeline.elasticsearch.search import FilterError, build_query, format_results, parse_filters
from transforms.stories import StoryStore


def cmd_search(args: argparse.Namespace) -> int:
    try:
        filters = parse_filters(args.filter)
    except FilterError as e:
        raise UsageError(str(e)) from None
    cfg = load_config_or_exit(args.config, check_files=False)
    client = connect(cfg)
    try:
        resp = client.search(index=cfg.es.index, **build_query(args.query, size=args.size, filters=filters,
                                                               stories=args.stories,
                                                               include_withdrawn=args.include_withdrawn))
        body = resp.body if hasattr(resp, "body") else resp
        stories = None
        if args.stories:
            ids = [h["_source"]["story"]["id"] for h in body["hits"]["hits"]
                   if (h.get("_source", {}).get("story") or {}).get("id")]
            stories = StoryStore(client, cfg.es.index).stories(ids)
    except NotFoundError:
        raise UsageError(f"{cfg.es.index}: no such index or alias on {', '.join(cfg.es.hosts)}: nothing was "
                         f"indexed with this config yet (wirenews run -c {args.config})") from None
    finally:
        client.close()
    if args.json:
        print(json.dumps(body if stories is None else {**body, "stories": stories}, ensure_ascii=False, indent=2))
    else:
        print(format_results(body, args.query, stories))
    return EXIT_OK
