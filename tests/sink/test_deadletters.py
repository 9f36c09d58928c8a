"""The dead-letter store read back, without a cluster: the local file, reasons, and what a rewrite keeps."""

from __future__ import annotations

import json

from transforms.sink.bulk import deadletter_id
from transforms.sink.deadletters import FILE, DeadLetter, read_file, reason_counts, remove


def record(doc_id: str, reason: str, kind: str = "strict_dynamic_mapping_exception") -> dict:
    return {"@timestamp": "2026-05-04T07:30:00.000Z", "doc_id": doc_id, "index": "news", "feed": "ana-wire",
            "attempts": 1, "error": {"type": kind, "reason": reason, "status": 400},
            "document": {"title": f"Story {doc_id}", "ingested_at": "2026-05-04T07:30:00Z"}}


def test_reasons_count_together_whatever_differs_per_document():
    letters = [DeadLetter(FILE, "x", record(
        n, f"[1:{600 + i}] failed to parse field [word_count] of type [integer] in document with id '{n}'. "
           f"Preview of field's value: 'many'", "document_parsing_exception")) for i, n in enumerate("ab")]
    letters.append(DeadLetter(FILE, "y", record("c", "[1:23] mapping set to strict, dynamic introduction of [wire]")))
    assert reason_counts(letters) == [
        ("document_parsing_exception: failed to parse field [word_count] of type [integer]. Preview of field's "
         "value: 'many'", 2),
        ("strict_dynamic_mapping_exception: mapping set to strict, dynamic introduction of [wire]", 1)]
    assert letters[0].matches("WORD_COUNT") and not letters[2].matches("word_count") and letters[2].matches(None)


def test_the_local_file_is_read_with_the_sinks_ids_and_rewritten_keeping_the_rest(tmp_path):
    path = tmp_path / "deadletter.ndjson"
    a, b, c = record("a", "r1"), record("b", "r2"), record("c", "r3")
    path.write_text(json.dumps({**a, "_id": deadletter_id(a)}) + "\n" + json.dumps(b) + "\nnot a record\n"
                    + json.dumps({**c, "_id": deadletter_id(c)}) + "\n")
    store = read_file(path)
    assert store.exists and store.unreadable == 1
    assert [dl.id for dl in store.letters] == [deadletter_id(a), deadletter_id(b), deadletter_id(c)]
    assert "_id" not in store.letters[0].record
    size = path.stat().st_size
    with path.open("a") as f:  # what a replay's sink appended while the index could not be written
        f.write(json.dumps({**b, "_id": deadletter_id(b), "attempts": 2}) + "\n")
    remove(None, "news-deadletter", path, store.letters[:2], size)  # a landed, b stored again (appended)
    lines = path.read_text().splitlines()
    assert lines[0] == "not a record"
    assert [json.loads(line)["doc_id"] for line in lines[1:]] == ["c", "b"]
    assert json.loads(lines[2])["attempts"] == 2


def test_a_missing_file_is_an_empty_store(tmp_path):
    store = read_file(tmp_path / "none.ndjson")
    assert not store.exists and store.letters == []
