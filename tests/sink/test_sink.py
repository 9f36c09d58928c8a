"""ElasticsearchSink alone, with a scripted client: item-by-item outcomes, retries, dead letters."""

from __future__ import annotations

import json
import random

import pytest
from elastic_transport import ApiResponseMeta, ConnectionError, HttpHeaders, NodeConfig, ObjectApiResponse
from elasticsearch import ApiError, AuthorizationException

from transforms.sink.bulk import (
    BulkRetriesExhausted,
    DeadLetterLost,
    ElasticsearchSink,
    Encoded,
    IndexRequest,
    backoff_delay,
    batches,
    deadletter_id,
    deadletter_record,
    encode,
)

META = ApiResponseMeta(status=200, http_version="1.1", headers=HttpHeaders(), duration=0.0,
                       node=NodeConfig("http", "127.0.0.1", 9200))
MAPPING_ERROR = {"type": "document_parsing_exception", "reason": "failed to parse field [word_count]",
                 "caused_by": {"type": "number_format_exception", "reason": "For input string: \"x\""}}


def meta(status: int) -> ApiResponseMeta:
    return ApiResponseMeta(status=status, http_version="1.1", headers=HttpHeaders(), duration=0.0,
                           node=NodeConfig("http", "127.0.0.1", 9200))


class ScriptedClient:
    """Answers each ``bulk`` with the next scripted step: an exception, or a function of the sent ids."""

    def __init__(self, steps, deadletter_steps=()) -> None:
        self.steps = list(steps)
        self.deadletter_steps = list(deadletter_steps)
        self.sent: list[list[str]] = []
        self.deadletter_bodies: list[list[dict]] = []

    def bulk(self, *, operations: bytes, index: str, filter_path: str):
        lines = [json.loads(ln) for ln in operations.decode().splitlines()]
        if index.endswith("-deadletter"):
            self.deadletter_bodies.append(lines[1::2])
            step = self.deadletter_steps.pop(0) if self.deadletter_steps else "ok"
        else:
            self.sent.append([a["index"]["_id"] for a in lines[0::2]])
            step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        ids = [a["index"]["_id"] for a in lines[0::2]]
        statuses = [201] * len(ids) if step == "ok" else step(ids)
        items = []
        for s in statuses:
            if isinstance(s, tuple):
                items.append({"index": {"status": s[0], "error": s[1]}})
            else:
                items.append({"index": {"status": s, "result": "created" if s == 201 else "updated"}})
        return ObjectApiResponse(body={"errors": any(s not in (200, 201) for s in statuses), "items": items},
                                 meta=META)


def requests(n: int, feed: str = "f") -> list[IndexRequest]:
    return [IndexRequest(f"id-{i}", {"title": f"t{i}", "n": i}, feed) for i in range(n)]


def sink(client, tmp_path, **kw) -> ElasticsearchSink:
    kw.setdefault("deadletter_index", "a-deadletter")
    kw.setdefault("concurrency", 1)  # scripted steps are consumed in order
    return ElasticsearchSink(client, "a", deadletter_path=str(tmp_path / "dl.ndjson"), sleep=lambda s: None,
                             rng=random.Random(1), **kw)


def test_created_and_updated_are_told_apart(tmp_path):
    client = ScriptedClient([lambda ids: [201, 200, 201]])
    report = sink(client, tmp_path).write(requests(3))
    assert [r.id for r in report.created] == ["id-0", "id-2"]
    assert [r.id for r in report.updated] == ["id-1"]
    assert report.retried == 0 and report.dead_letters == []
    assert len(report.bulk_latency_ms) == 1


def test_only_the_transient_failures_are_resent_and_mapping_errors_are_dead_lettered(tmp_path):
    rejected = (429, {"type": "es_rejected_execution_exception", "reason": "queue full"})
    client = ScriptedClient([
        lambda ids: [201, rejected, (400, MAPPING_ERROR), (503, {"type": "unavailable_shards_exception"}), 201],
        lambda ids: [rejected, 201],
        lambda ids: [201],
    ])
    report = sink(client, tmp_path).write(requests(5))
    assert client.sent == [["id-0", "id-1", "id-2", "id-3", "id-4"], ["id-1", "id-3"], ["id-1"]]
    assert sorted(r.id for r in report.created) == ["id-0", "id-1", "id-3", "id-4"]
    assert report.retried == 3
    [dead] = report.dead_letters
    assert dead["doc_id"] == "id-2" and dead["document"] == {"title": "t2", "n": 2}
    assert dead["error"]["type"] == "document_parsing_exception"
    assert "number_format_exception" in dead["error"]["reason"] and dead["error"]["status"] == 400
    assert dead["feed"] == "f" and dead["@timestamp"].endswith("Z")
    assert client.deadletter_bodies == [[dead]]


def test_connection_errors_and_5xx_requests_are_retried_then_exhausted(tmp_path):
    down = ConnectionError("refused")
    busy = ApiError("busy", meta(503), {"error": {"type": "unavailable"}})
    client = ScriptedClient([down, busy, down])
    with pytest.raises(BulkRetriesExhausted, match="2 retries"):
        sink(client, tmp_path, max_retries=2).write(requests(2))
    assert client.sent == [["id-0", "id-1"]] * 3


def test_a_forbidden_request_fails_loudly_at_once(tmp_path):
    client = ScriptedClient([AuthorizationException("no", meta(403), {"error": {"type": "security_exception"}})])
    with pytest.raises(AuthorizationException):
        sink(client, tmp_path).write(requests(2))
    assert len(client.sent) == 1


def test_a_request_too_large_is_halved_and_a_single_huge_document_dead_lettered(tmp_path):
    too_big = ApiError("too large", meta(413), "")
    client = ScriptedClient([too_big, too_big, "ok", "ok", "ok"])  # 4 docs -> 2+2 -> (1+1) + 2
    report = sink(client, tmp_path).write(requests(4))
    assert client.sent == [["id-0", "id-1", "id-2", "id-3"], ["id-0", "id-1"], ["id-0"], ["id-1"], ["id-2", "id-3"]]
    assert sorted(r.id for r in report.created) == ["id-0", "id-1", "id-2", "id-3"]
    client = ScriptedClient([too_big])
    report = sink(client, tmp_path).write(requests(1))
    assert [d["error"]["type"] for d in report.dead_letters] == ["request_too_large"]


def test_dead_letters_go_to_the_file_when_the_deadletter_index_is_unwritable(tmp_path):
    client = ScriptedClient([lambda ids: [(400, MAPPING_ERROR)]], deadletter_steps=[ConnectionError("down")] * 3)
    report = sink(client, tmp_path).write(requests(1))
    lines = (tmp_path / "dl.ndjson").read_text().splitlines()
    assert len(lines) == 1
    rec = json.loads(lines[0])
    assert rec["doc_id"] == "id-0" and rec["document"] == {"title": "t0", "n": 0}
    assert rec["_id"] == deadletter_id(report.dead_letters[0])


def test_a_refused_deadletter_record_goes_to_the_file(tmp_path):
    client = ScriptedClient([lambda ids: [(400, MAPPING_ERROR), (400, MAPPING_ERROR)]],
                            deadletter_steps=[lambda ids: [201, (400, MAPPING_ERROR)]])
    sink(client, tmp_path).write(requests(2))
    [line] = (tmp_path / "dl.ndjson").read_text().splitlines()
    assert json.loads(line)["doc_id"] == "id-1"


def test_a_dead_letter_that_cannot_be_stored_anywhere_raises(tmp_path):
    client = ScriptedClient([lambda ids: [(400, MAPPING_ERROR)]], deadletter_steps=[ConnectionError("down")] * 3)
    s = sink(client, tmp_path)
    s.deadletter_path = str(tmp_path / "no" / "such" / "dir" / "dl.ndjson")
    with pytest.raises(DeadLetterLost):
        s.write(requests(1))


def test_batches_respect_count_and_bytes():
    items = [encode(r) for r in requests(10)]
    size = items[0].size
    assert [len(b) for b in batches(items, max_docs=4, max_bytes=10**9)] == [4, 4, 2]
    assert [len(b) for b in batches(items, max_docs=100, max_bytes=size * 3 + 5)] == [3, 3, 3, 1]
    assert [len(b) for b in batches(items, max_docs=100, max_bytes=1)] == [1] * 10


def test_the_sink_splits_by_its_caps(tmp_path):
    client = ScriptedClient(["ok"] * 3)
    sink(client, tmp_path, max_docs=2).write(requests(5))
    assert [len(s) for s in client.sent] == [2, 2, 1]


def test_batches_in_flight_together_write_everything_once(tmp_path):
    client = ScriptedClient(["ok"] * 25)
    report = sink(client, tmp_path, max_docs=4, concurrency=3).write(requests(97))
    assert sorted(i for sent in client.sent for i in sent) == sorted(f"id-{i}" for i in range(97))
    assert sorted(r.id for r in report.created) == sorted(f"id-{i}" for i in range(97))
    assert len(report.bulk_latency_ms) == 25


def test_backoff_grows_with_jitter_and_is_capped():
    rng = random.Random(3)
    for attempt in range(1, 12):
        cap = min(8.0, 0.5 * 2 ** (attempt - 1))
        delays = {backoff_delay(attempt, 0.5, 8.0, rng) for _ in range(20)}
        assert all(cap / 2 <= d <= cap for d in delays)
        assert len(delays) > 1


def test_encode_is_two_ndjson_lines_with_the_exact_document():
    e = encode(IndexRequest('we"ird', {"title": "Zürich \u2014 ok"}))
    action, source, tail = e.payload.split(b"\n")
    assert json.loads(action) == {"index": {"_id": 'we"ird'}}
    assert json.loads(source) == {"title": "Zürich \u2014 ok"} and tail == b""


def test_an_encoded_request_lets_its_document_go_and_a_dead_letter_reads_it_back():
    doc = {"title": "Zürich \u2014 ok", "entities": [{"name": "Zürich", "type": "GPE"}], "n": 3}
    e = encode(IndexRequest("id-1", dict(doc), "feed-a", version=7))
    assert e.request.doc == {} and (e.request.id, e.request.feed, e.request.version) == ("id-1", "feed-a", 7)
    assert e.document == doc
    record = deadletter_record(e, "articles", {"type": "mapper_parsing_exception", "reason": "bad"}, 400)
    assert record["document"] == doc and record["doc_id"] == "id-1" and record["feed"] == "feed-a"
    unencoded = Encoded(IndexRequest("id-2", {"repr": "x"}, "feed-b"), b"")  # an element no document came from
    assert deadletter_record(unencoded, "", {"type": "invalid_article"}, 0)["document"] == {"repr": "x"}


def test_deadletter_id_is_stable_per_document():
    a = {"doc_id": "x", "document": {"a": 1, "b": 2}}
    assert deadletter_id(a) == deadletter_id({"doc_id": "x", "document": {"b": 2, "a": 1}})
    assert deadletter_id(a) != deadletter_id({"doc_id": "x", "document": {"a": 2, "b": 2}})
