"""`wirenews es`: the project-managed local Elasticsearch."""

from __future__ import annotations

import argparse

from pipeline.cli.common import EXIT_CONFIG, EXIT_OK, log
from pipeline.elasticsearch.local_node import LocalEs, LocalEsError


def cmd_es(args: argparse.Namespace) -> int:
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
