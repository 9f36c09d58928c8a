"""make_client and check_connection: clear problems, never a secret in a message or log line."""

from __future__ import annotations

import json
import logging
import shutil
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline.elasticsearch.connection import ConnectionProblem, check_connection
from transforms.elastic import EsSettings, make_client

SECRET = "c2VjcmV0LWtleS1kby1ub3QtbG9n"


class FakeEs:
    """A loopback stand-in that answers like a secured cluster would, per path."""

    def __init__(self, routes: dict[str, tuple[int, dict]], tls: tuple[str, str] | None = None) -> None:
        self.routes = routes
        self.auth_headers: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                fake.auth_headers.append(self.headers.get("authorization") or "")
                status, body = fake.routes.get(self.path.split("?")[0], (404, {"error": "no handler"}))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Elastic-Product", "Elasticsearch")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_HEAD = _answer  # noqa: N815

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.scheme = "http"
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


AUTH_OK = (200, {"username": "wirenews", "authentication_type": "api_key"})
ALL_GRANTED = (200, {"username": "wirenews", "has_all_requested": True, "cluster": {"manage_index_templates": True},
                     "index": {"wn": {"read": True, "write": True}}})


@pytest.fixture
def fake():
    servers: list[FakeEs] = []

    def start(routes, tls=None):
        servers.append(FakeEs(routes, tls))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def settings(url: str, **kw) -> EsSettings:
    return EsSettings(hosts=[url], index="wn", local=False, **kw)


@pytest.mark.integration
def test_the_local_node_passes(es_url):
    check_connection(settings(es_url))


def test_unreachable_is_named():
    with pytest.raises(ConnectionProblem, match=r"127\.0\.0\.1:9 is unreachable"):
        check_connection(settings("http://127.0.0.1:9"))


def test_bad_credentials_are_named_without_the_secret(fake, caplog):
    es = fake({"/_security/_authenticate": (401, {"error": {"type": "security_exception",
                                                            "reason": "unable to authenticate"}})})
    with caplog.at_level(logging.DEBUG), pytest.raises(ConnectionProblem, match="refused the credentials") as info:
        check_connection(settings(es.url, api_key=SECRET))
    assert es.auth_headers[0] == f"ApiKey {SECRET}"
    assert SECRET not in str(info.value) and SECRET not in caplog.text


def test_missing_credentials_are_named(fake):
    es = fake({"/_security/_authenticate": (401, {"error": {"type": "security_exception"}})})
    with pytest.raises(ConnectionProblem, match="requires credentials"):
        check_connection(settings(es.url))


def test_missing_privileges_are_listed(fake, caplog):
    es = fake({"/_security/_authenticate": AUTH_OK,
               "/_security/user/_has_privileges": (200, {
                   "username": "reader", "has_all_requested": False,
                   "cluster": {"manage_index_templates": False},
                   "index": {"wn": {"read": True, "write": False, "create_index": False},
                             "wn-*": {"read": True, "write": True, "create_index": True}}})})
    with caplog.at_level(logging.DEBUG), pytest.raises(ConnectionProblem) as info:
        check_connection(settings(es.url, username="reader", password=SECRET))
    msg = str(info.value)
    assert "reader lacks" in msg and "manage_index_templates" in msg
    assert "['create_index', 'write'] on 'wn'" in msg and "wn-*" not in msg
    assert SECRET not in msg and SECRET not in caplog.text


def test_granted_privileges_pass(fake):
    es = fake({"/_security/_authenticate": AUTH_OK, "/_security/user/_has_privileges": ALL_GRANTED})
    check_connection(settings(es.url, api_key=SECRET))


def test_a_cluster_of_another_major_is_named(fake):
    es = fake({"/_security/_authenticate": (400, {"error": {
        "type": "media_type_header_exception",
        "reason": "Invalid media-type value on headers [Accept, Content-Type]",
        "root_cause": []}, "status": 400})})
    with pytest.raises(ConnectionProblem, match=r"elasticsearch>=8\.19,<9"):
        check_connection(settings(es.url))


@pytest.fixture
def self_signed(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return str(cert), str(key)


def test_an_unknown_certificate_is_refused_and_accepted_with_its_ca(fake, self_signed):
    es = fake({"/_security/_authenticate": AUTH_OK, "/_security/user/_has_privileges": ALL_GRANTED},
              tls=self_signed)
    with pytest.raises(ConnectionProblem, match="TLS verification failed.*WIRENEWS_ES_CA_CERTS"):
        check_connection(settings(es.url, api_key=SECRET))
    check_connection(settings(es.url, api_key=SECRET, ca_certs=self_signed[0]))


def test_tls_is_verified_by_default():
    client = make_client(EsSettings(hosts=["https://127.0.0.1:9"], index="wn", local=False))
    node = next(iter(client.transport.node_pool.all()))
    assert node.config.verify_certs is True
    insecure = make_client(EsSettings(hosts=["https://127.0.0.1:9"], index="wn", local=False, verify_certs=False))
    assert next(iter(insecure.transport.node_pool.all())).config.verify_certs is False


def test_settings_repr_hides_secrets():
    s = settings("http://127.0.0.1:9", api_key=SECRET, password=SECRET, username="u")
    assert SECRET not in repr(s)
