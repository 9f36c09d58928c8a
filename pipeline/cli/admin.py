"""`wirenews kibana`, `index` and `config`: saved objects, index versions, config checks."""

from __future__ import annotations

import argparse
import json
import os
import sys

from pipeline.cli.common import EXIT_FAILURES, EXIT_OK, connect, load_config_or_exit, log
from pipeline.elasticsearch import kibana
from pipeline.elasticsearch.bootstrap import bootstrap, migrate, write_index


def cmd_kibana(args: argparse.Namespace) -> int:
    alias = load_config_or_exit(args.config).es.index if args.config else None
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
    cfg = load_config_or_exit(args.config)
    client = connect(cfg)
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
    cfg = load_config_or_exit(args.config)
    print(f"{cfg.path}: ok — {len(cfg.feeds)} feed(s), index {cfg.es.index} on {', '.join(cfg.es.hosts)}"
          f"{' (local node)' if cfg.es.local else ''}, auth {cfg.es.auth_kind}")
    return EXIT_OK
