"""Dead letters read back: what Elasticsearch refused and why, and a replay once the cause is fixed.

The sink keeps each refused document in ``<alias>-deadletter`` and, when that index cannot be written,
in a local NDJSON file (``bulk.deadletter_file``); both hold the same record under the same stable id.
A replay sends the stored documents through the same ``ElasticsearchSink`` as a run (batches, retries),
then removes what landed from the store it came from. What is refused again is stored again by the sink
under its unchanged id, so it stays once, with the newest reason. A record whose article has been indexed
since, by a later run, is stale: it is removed without being written over the newer document.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError, helpers

from transforms.sink.bulk import ElasticsearchSink, IndexRequest, deadletter_id

log = logging.getLogger(__name__)

INDEX, FILE = "index", "file"
# Parts of Elasticsearch's reasons that differ per document: the position in the JSON, the document's id.
_POSITION = re.compile(r"^\[\d+:\d+\]\s*")
_DOC_ID = re.compile(r"\s*in document with id '[^']*'")


@dataclass
class DeadLetter:
    """One stored record and where it is: ``store`` is ``index`` or ``file``, ``id`` its id there."""

    store: str
    id: str
    record: dict[str, Any]

    @property
    def doc_id(self) -> str:
        return str(self.record.get("doc_id") or "")

    @property
    def reason(self) -> str:
        """``type: reason``, with what differs per document left out, so that like failures count together."""
        error = self.record.get("error") or {}
        reason = _DOC_ID.sub("", _POSITION.sub("", str(error.get("reason") or "")))
        return f"{error.get('type') or 'unknown'}: {reason}".strip().rstrip(":")

    @property
    def replayable(self) -> bool:
        """A record of an article that never became a document (``invalid_article``) has nothing to send."""
        return bool(self.record.get("index")) and isinstance(self.record.get("document"), dict) and bool(self.doc_id)

    def matches(self, text: str | None) -> bool:
        return not text or text.lower() in self.reason.lower()


@dataclass
class Store:
    """What one store holds: the dead-letter index or the local file, and whether it exists at all."""

    kind: str
    where: str
    exists: bool
    letters: list[DeadLetter] = field(default_factory=list)
    unreadable: int = 0  # file lines that are not records (left in place)


def read_index(client: Elasticsearch, index: str) -> Store:
    try:
        hits = list(helpers.scan(client, index=index, query={"query": {"match_all": {}}}, size=500))
    except NotFoundError:
        return Store(INDEX, index, exists=False)
    return Store(INDEX, index, True, [DeadLetter(INDEX, h["_id"], h.get("_source") or {}) for h in hits])


def read_file(path: str | os.PathLike[str]) -> Store:
    p = Path(path)
    if not p.is_file():
        return Store(FILE, str(p.resolve()), exists=False)
    store = Store(FILE, str(p.resolve()), True)
    for line in p.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            store.unreadable += 1
            continue
        if isinstance(record, dict) and "doc_id" in record:
            store.letters.append(DeadLetter(FILE, _file_id(record), {k: v for k, v in record.items() if k != "_id"}))
        else:
            store.unreadable += 1
    return store


def reason_counts(letters: list[DeadLetter]) -> list[tuple[str, int]]:
    """Reasons with how many records carry each, most frequent first."""
    return Counter(dl.reason for dl in letters).most_common()


@dataclass
class ReplayReport:
    indexed: list[DeadLetter] = field(default_factory=list)  # written, and removed from the dead letters
    refused: list[DeadLetter] = field(default_factory=list)  # refused again: stored again, with the new reason
    stale: list[DeadLetter] = field(default_factory=list)  # a newer version is indexed: removed, not written
    not_replayable: list[DeadLetter] = field(default_factory=list)  # no document to send: left in place

    @property
    def to_remove(self) -> list[DeadLetter]:
        """Records whose place in their store is done with: what landed, what was stale, and the file's
        records the sink has stored again (in the index when it can be written, else appended to the file).
        A record of the index refused again was stored again under its own id: it stays."""
        return [*self.indexed, *self.stale, *(dl for dl in self.refused if dl.store == FILE)]


def replay(sink: ElasticsearchSink, letters: list[DeadLetter]) -> ReplayReport:
    """Send the records' documents through ``sink``; sort out what landed, what was refused, what was stale.

    Several records of one article (versions refused on different runs) send only the newest; the older
    ones go with it when it lands. Removing from the stores is ``remove``'s job, after this returns.
    """
    report = ReplayReport(not_replayable=[dl for dl in letters if not dl.replayable])
    newest: dict[str, DeadLetter] = {}
    for dl in sorted((dl for dl in letters if dl.replayable), key=lambda d: str(d.record.get("@timestamp") or "")):
        newest[dl.doc_id] = dl
    stored = _ingested_at(sink.client, sink.index, list(newest))
    to_send: dict[str, DeadLetter] = {}
    for doc_id, dl in newest.items():
        ingested = str(dl.record["document"].get("ingested_at") or "")
        if stored.get(doc_id, "") > ingested:
            continue  # a later run indexed this article after the refusal: the record is stale
        to_send[doc_id] = dl
    result = sink.write([IndexRequest(dl.doc_id, dl.record["document"], str(dl.record.get("feed") or ""))
                         for dl in to_send.values()])
    landed = {r.id for r in (*result.created, *result.updated)}
    for dl in letters:
        if not dl.replayable:
            continue
        if dl.doc_id in landed:
            report.indexed.append(dl)
        elif dl.doc_id not in to_send:
            report.stale.append(dl)
        else:
            report.refused.append(dl)
    return report


def remove(client: Elasticsearch, index: str, file_path: str | os.PathLike[str], letters: list[DeadLetter],
           file_size_before: int) -> None:
    """Remove records from their stores: by id from the index, by rewriting the file.

    The file keeps every line it had but the removed ones, plus whatever was appended to it after
    ``file_size_before`` bytes (records the replay itself stored there when the index was not writable).
    """
    index_ids = sorted({dl.id for dl in letters if dl.store == INDEX and dl.id})
    if index_ids:
        actions = ({"_op_type": "delete", "_index": index, "_id": i} for i in index_ids)
        helpers.bulk(client, actions, raise_on_error=False, refresh="wait_for")
    file_ids = {dl.id for dl in letters if dl.store == FILE}
    path = Path(file_path)
    if not file_ids or not path.is_file():
        return
    data = path.read_bytes()
    kept = [line for line in data[:file_size_before].decode("utf-8", errors="replace").splitlines(keepends=True)
            if line.strip() and _line_id(line) not in file_ids]
    appended = data[file_size_before:].decode("utf-8", errors="replace")
    fd, tmp = tempfile.mkstemp(dir=str(path.parent), prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("".join(kept) + appended)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _line_id(line: str) -> str | None:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return None  # not a record: kept as it is
    return _file_id(record) if isinstance(record, dict) and "doc_id" in record else None


def _file_id(record: dict[str, Any]) -> str:
    """A file record's id: the one the sink wrote beside it, else the same stable id computed again."""
    return str(record.get("_id") or deadletter_id({"doc_id": record["doc_id"], "document": record.get("document")}))


def _ingested_at(client: Elasticsearch, index: str, ids: list[str]) -> dict[str, str]:
    """``ingested_at`` of the documents the alias holds now, by id."""
    found: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        try:
            resp = client.mget(index=index, ids=ids[start:start + 500], source_includes=["ingested_at"])
        except NotFoundError:
            return found
        for doc in resp.body.get("docs") or []:
            if doc.get("found"):
                found[doc["_id"]] = str((doc.get("_source") or {}).get("ingested_at") or "")
    return found
