"""`wirenews deadletter list|replay`: what Elasticsearch refused, and sending it again once the cause is fixed."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from pipeline.cli.common import EXIT_FAILURES, EXIT_OK, connect, load_config_or_exit, log, one_line
from pipeline.elasticsearch.bootstrap import bootstrap, ensure_aux_indices
from transforms.sink.bulk import BulkRetriesExhausted, ElasticsearchSink, deadletter_file
from transforms.sink.deadletters import DeadLetter, Store, read_file, read_index, reason_counts, remove, replay


def cmd_deadletter(args: argparse.Namespace) -> int:
    cfg = load_config_or_exit(args.config, check_files=False)
    path = args.file or deadletter_file()
    client = connect(cfg)
    try:
        size_before = os.path.getsize(path) if os.path.isfile(path) else 0
        stores = [read_index(client, cfg.es.deadletter_index), read_file(path)]
        selected = [dl for store in stores for dl in store.letters if dl.matches(args.reason)]
        if args.action == "list":
            print(json.dumps(_as_json(stores, selected), ensure_ascii=False, indent=2) if args.json
                  else render_list(cfg.es.index, stores, selected, args.reason))
            return EXIT_OK
        if not selected:
            print("nothing to replay" + (f" for reason {args.reason!r}" if args.reason else ""))
            return EXIT_OK
        bootstrap(client, cfg.es.index)  # a replay into a missing alias would create a concrete index by its name
        ensure_aux_indices(client, cfg.es)
        sink = ElasticsearchSink(client, cfg.es.index, deadletter_index=cfg.es.deadletter_index,
                                 deadletter_path=path, max_docs=cfg.es.bulk_max_docs,
                                 max_bytes=cfg.es.bulk_max_bytes, max_retries=cfg.es.max_retries)
        try:
            report = replay(sink, selected)
        except BulkRetriesExhausted as e:
            log.error("replay stopped, nothing was removed from the dead letters: %s", one_line(e))
            return EXIT_FAILURES
        remove(client, cfg.es.deadletter_index, path, report.to_remove, size_before)
    finally:
        client.close()
    print(f"replayed {len(selected) - len(report.not_replayable)} record(s) into {cfg.es.index}: "
          f"{len(report.indexed)} indexed and removed from the dead letters, {len(report.refused)} refused again "
          f"(kept, with the newest reason), {len(report.stale)} stale (a later run indexed the article since; "
          f"removed), {len(report.not_replayable)} without a document (kept: re-run their feed)")
    for reason, n in reason_counts(report.refused):
        print(f"  still refused: {n:>5}  {reason}")
    return EXIT_FAILURES if report.refused else EXIT_OK


def render_list(alias: str, stores: list[Store], selected: list[DeadLetter], reason: str | None) -> str:
    """Where the dead letters are and how many, the reasons with their counts, then one line per record."""
    out = [f"dead letters of {alias}" + (f", reason containing {reason!r}" if reason else "")]
    for store in stores:
        count = sum(1 for dl in selected if dl.store == store.kind)
        missing = "none (not created yet)" if store.kind == "index" else "none (no such file)"
        state = f"{count} record(s)" if store.exists else missing
        extra = f"; {store.unreadable} line(s) that are not records" if store.unreadable else ""
        out.append(f"  {store.kind:<5} {store.where}: {state}{extra}")
    if not selected:
        return "\n".join(out)
    out += ["", "reasons:"]
    out += [f"  {n:>5}  {text}" for text, n in reason_counts(selected)]
    out += ["", "records (newest first):"]
    for dl in sorted(selected, key=lambda d: str(d.record.get("@timestamp") or ""), reverse=True):
        doc = dl.record.get("document") or {}
        error = dl.record.get("error") or {}
        title = " ".join(str(doc.get("title") or "").split())[:60]
        out.append(f"  {dl.record.get('@timestamp', '')}  {dl.store:<5} feed={dl.record.get('feed') or '-'}  "
                   f"id={dl.doc_id[:16]}  {error.get('type') or 'unknown'}  {title!r}")
    out.append("")
    out.append("replay them once the cause is fixed: wirenews deadletter replay -c CONFIG [--reason TEXT]")
    return "\n".join(out)


def _as_json(stores: list[Store], selected: list[DeadLetter]) -> dict[str, Any]:
    return {
        "stores": [{"kind": s.kind, "where": s.where, "exists": s.exists,
                    "records": sum(1 for dl in selected if dl.store == s.kind), "unreadable": s.unreadable}
                   for s in stores],
        "reasons": [{"reason": text, "count": n} for text, n in reason_counts(selected)],
        "records": [{"store": dl.store, "id": dl.id, **dl.record} for dl in selected],
    }
