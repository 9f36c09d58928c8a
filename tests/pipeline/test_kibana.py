"""Kibana saved objects: consistent among themselves, true to the live mapping, and imported as Kibana expects."""

from __future__ import annotations

import base64
import email.parser
import email.policy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline.elasticsearch.bootstrap import bootstrap
from pipeline.elasticsearch.kibana import (
    OBJECTS_PATH,
    KibanaError,
    export_objects,
    fields_used,
    import_objects,
    load_objects,
)


def test_export_is_the_shipped_file_and_an_alias_changes_only_the_data_view_title():
    assert export_objects() == OBJECTS_PATH.read_text(encoding="utf-8")
    other = [json.loads(line) for line in export_objects("news-v").splitlines()]
    shipped = load_objects()
    assert len(other) == len(shipped)
    for a, b in zip(other, shipped, strict=True):
        if a["type"] == "index-pattern":
            assert a["attributes"]["title"] == "news-v"
            a["attributes"]["title"] = b["attributes"]["title"]
        assert a == b


def test_the_objects_reference_each_other_consistently():
    objects = load_objects()
    by_id = {(o["type"], o["id"]) for o in objects}
    types = [o["type"] for o in objects]
    assert types.count("index-pattern") == 1 and types.count("dashboard") == 1 and types.count("search") == 4
    data_view = next(o for o in objects if o["type"] == "index-pattern")
    assert data_view["attributes"]["timeFieldName"] == "@timestamp"
    for o in objects:
        for ref in o["references"]:
            assert (ref["type"], ref["id"]) in by_id, (o["id"], ref)
        meta = json.loads(o["attributes"].get("kibanaSavedObjectMeta", {}).get("searchSourceJSON") or "{}")
        if "indexRefName" in meta:
            assert meta["indexRefName"] in {r["name"] for r in o["references"]}
    dashboard = next(o for o in objects if o["type"] == "dashboard")
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    ref_names = {r["name"] for r in dashboard["references"]}
    assert {f"{p['panelIndex']}:{p['panelRefName']}" for p in panels} == ref_names
    searches = {o["id"] for o in objects if o["type"] == "search"}
    assert searches <= {r["id"] for r in dashboard["references"]}


@pytest.mark.integration
def test_every_field_the_objects_use_is_in_the_live_mapping_with_the_right_type(es_settings, es_client):
    bootstrap(es_client, es_settings.index)
    caps = es_client.field_caps(index=es_settings.index, fields="*").body["fields"]
    used = fields_used()
    assert {"@timestamp", "agency", "title", "entities.person", "entities.org", "entities.location"} <= set(used)
    for name, roles in used.items():
        assert name in caps, f"{name} is used by the Kibana objects but not mapped"
        [(ftype, cap)] = [(t, c) for t, c in caps[name].items() if t != "unmapped"]
        if "time" in roles:
            assert ftype == "date", name
        if roles & {"sort", "facet"}:
            assert cap["aggregatable"], f"{name} is sorted or faceted on but not aggregatable ({ftype})"
        if "query" in roles:
            assert cap["searchable"], name


class FakeKibana:
    def __init__(self, status: int = 200, answer: dict | None = None) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.status = status
        self.answer = answer if answer is not None else {"success": True, "successCount": 9, "successResults": []}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["content-length"]))
                fake.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                data = json.dumps(fake.answer).encode()
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def kibana():
    made: list[FakeKibana] = []

    def start(**kw) -> FakeKibana:
        made.append(FakeKibana(**kw))
        return made[-1]

    yield start
    for k in made:
        k.close()


def test_import_posts_multipart_with_xsrf_and_overwrite(kibana):
    k = kibana()
    answer = import_objects(k.url, username="elastic", password="pw", alias="news-v", space="desk")
    assert answer["successCount"] == 9
    [(path, headers, body)] = k.requests
    assert path == "/s/desk/api/saved_objects/_import?overwrite=true"
    assert headers["kbn-xsrf"] == "true"
    assert headers["authorization"] == "Basic " + base64.b64encode(b"elastic:pw").decode()
    msg = email.parser.BytesParser(policy=email.policy.default).parsebytes(
        b"Content-Type: " + headers["content-type"].encode() + b"\r\n\r\n" + body)
    [part] = list(msg.iter_parts())
    assert part.get_param("name", header="content-disposition") == "file"
    assert part.get_filename() == "wirenews.ndjson"
    assert part.get_payload(decode=True).decode() == export_objects("news-v")


def test_import_with_an_api_key(kibana):
    k = kibana()
    import_objects(k.url, api_key="a2V5")
    assert k.requests[0][1]["authorization"] == "ApiKey a2V5"
    assert k.requests[0][0] == "/api/saved_objects/_import?overwrite=true"


def test_import_failures_are_reported(kibana):
    k = kibana(answer={"success": False, "successCount": 8, "errors": [
        {"id": "wirenews-overview", "type": "dashboard", "error": {"type": "missing_references"}}]})
    with pytest.raises(KibanaError, match="dashboard wirenews-overview: missing_references"):
        import_objects(k.url)
    k = kibana(status=401, answer={"statusCode": 401, "message": "Unauthorized"})
    with pytest.raises(KibanaError, match="HTTP 401"):
        import_objects(k.url)
    with pytest.raises(KibanaError, match="unreachable"):
        import_objects("http://127.0.0.1:9")
