"""The pipeline against a second local node with security on and HTTPS (port 9280, started here).

Users are made with the distribution's ``bin/elasticsearch-users`` (file realm) and roles written to
``roles.yml``; the certificates come from ``bin/elasticsearch-certutil``. The pipeline's user holds
only what wirenews asks for (no ``monitor``, nothing on the cluster but index templates). It must work
over TLS with ``WIRENEWS_ES_CA_CERTS``; refuse an untrusted certificate, wrong or missing credentials
and missing privileges with exit 2 and a message naming the problem; and never print a secret.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import certifi
import pytest

from pipeline.elasticsearch.local_node import LocalEs
from tests.reliability import securenode
from tests.reliability.conftest import (
    EXPECTED_STORIES,
    Row,
    feed_states,
    record,
    sample_feeds,
    stored,
    wirenews,
    write_config,
)
from tests.reliability.securenode import PIPELINE_CLUSTER, PIPELINE_INDEX, PORT, PREFIX, Node

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.reliability]

FEEDS = ("xinhua-world", "reuters-business", "afp-europe", "tass-russia")


@pytest.fixture(scope="module")
def secure_node():
    node = securenode.get()
    try:
        yield node
    finally:
        securenode.stop()


def run_secured(tmp_path: Path, node: Node, alias: str, port: int, *, user: str | None, password: str | None = None,
                ca: str | None = None, extra: tuple[str, ...] = ()):
    feeds = [f for f in sample_feeds(port) if f["name"] in FEEDS]
    cfg = write_config(tmp_path / "c.yaml", [node.es.url], alias, feeds)
    env = {}
    if user:
        env["WIRENEWS_ES_USERNAME"] = user
        env["WIRENEWS_ES_PASSWORD"] = password if password is not None else node.passwords[user]
    if ca:
        env["WIRENEWS_ES_CA_CERTS"] = ca
    summary_file = tmp_path / "s.json"
    res = wirenews(tmp_path, "run", "-c", str(cfg), "--summary-json", str(summary_file), "--log-level", "DEBUG",
                   *extra, env=env)
    printed = res.stdout + res.stderr + (summary_file.read_text() if summary_file.exists() else "")
    for secret in node.secrets() + ([password] if password else []):
        assert secret not in printed, "a secret was printed"
    return res


def test_least_privilege_user_over_tls(tmp_path, secure_node, sample_server, clock):
    alias = f"{PREFIX}{secrets.token_hex(4)}"
    res = run_secured(tmp_path, secure_node, alias, sample_server.port, user="wn-pipeline",
                      ca=str(secure_node.es.ca_cert))
    assert res.returncode == 0, res.stderr[-4000:]
    assert "security on" in res.stderr and "auth: basic" in res.stderr
    reader = secure_node.client()
    try:
        expected = {g for g, s in EXPECTED_STORIES.items() if s["feed"] in FEEDS}
        got = stored(reader, alias, tmp_path / "deadletter.ndjson")
        assert set(got.guids) == expected and got.duplicated == 0 and got.dead_lettered == 0
        committed, pending = feed_states(reader, alias)
        assert set(committed) == set(FEEDS) and pending == []
    finally:  # the node's data outlives the session: leave nothing behind
        reader.indices.delete(index=f"{alias}*", ignore_unavailable=True, allow_no_indices=True)
        reader.options(ignore_status=404).indices.delete_index_template(name=alias)
        reader.close()
    record(Row(f"security on, HTTPS, user with only {', '.join(PIPELINE_INDEX)} + {PIPELINE_CLUSTER[0]}; "
               "one run", len(expected), got.indexed(expected), got.duplicated, got.dead_lettered, clock.seconds,
               "exit 0; no secret in logs (DEBUG) or summary"))


REFUSALS = {
    "wrong password": (dict(user="wn-pipeline", password="not-the-password"), "refused the credentials"),
    "no credentials": (dict(user=None), "requires credentials"),
    "user without write privileges": (dict(user="wn-reader"), "lacks"),
    "certificate not trusted (system CAs)": (dict(user="wn-pipeline", ca=None), "TLS verification failed"),
    "certificate not trusted (another CA bundle)": (dict(user="wn-pipeline", ca=certifi.where()),
                                                    "TLS verification failed"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refused_with_exit_2_naming_the_problem(case, tmp_path, secure_node, sample_server, clock):
    kwargs, message = REFUSALS[case]
    kwargs = {"ca": str(secure_node.es.ca_cert), **kwargs}
    alias = f"{PREFIX}{secrets.token_hex(4)}"
    res = run_secured(tmp_path, secure_node, alias, sample_server.port, **kwargs)
    assert res.returncode == 2, res.stderr[-3000:]
    assert message in res.stderr, res.stderr[-3000:]
    if case == "user without write privileges":
        assert "'write'" in res.stderr and "create_index" in res.stderr
    reader = secure_node.client()
    left = dict(reader.indices.get(index=f"{alias}*", allow_no_indices=True, expand_wildcards="all"))
    assert left == {}, f"something was written before the refusal: {sorted(left)}"
    reader.close()
    line = next(ln for ln in res.stderr.splitlines() if message in ln)
    record(Row(f"security: {case}", 0, 0, 0, 0, clock.seconds,
               "exit 2: " + line.split("ERROR wirenews: ", 1)[-1][:110].replace("|", "/")))


def _node_settings(tmp_path: Path, monkeypatch, **kw) -> dict[str, str]:
    import yaml

    monkeypatch.setattr("os.geteuid", lambda: 1000)  # no system user, no chown: only the file is of interest
    es = LocalEs(port=9299, home=tmp_path, **kw)
    (es.dist_dir / "config").mkdir(parents=True)
    (es.dist_dir / "config" / "jvm.options").write_text("-Xss1m\n")
    es._write_node_config()
    return yaml.safe_load((es.node_dir / "config" / "elasticsearch.yml").read_text())


def test_the_default_node_is_unchanged_and_tls_adds_only_security_settings(tmp_path, monkeypatch):
    plain = _node_settings(tmp_path / "a", monkeypatch)
    assert plain["xpack.security.enabled"] is False
    assert not [k for k in plain if k.startswith("xpack.security.") and k != "xpack.security.enabled"]
    assert LocalEs(port=9299, home=tmp_path).url == "http://127.0.0.1:9299"
    tls = _node_settings(tmp_path / "b", monkeypatch, security=True, tls=True)
    assert tls["xpack.security.enabled"] is True and tls["xpack.security.http.ssl.enabled"] is True
    assert tls["xpack.security.http.ssl.certificate"] == "certs/node/node.crt"
    same = {k for k in plain if not k.startswith(("xpack.security.", "path."))}
    assert {k: tls[k] for k in same} == {k: plain[k] for k in same}
    assert LocalEs(port=9299, home=tmp_path, tls=True).url == "https://127.0.0.1:9299"


def test_a_redirect_to_https_is_pinned_to_the_checked_address_and_still_verified(secure_node):
    """The redirect hop connects to the address it checked, yet TLS still verifies the name in the URL."""
    import urllib3

    from tests.loopback import LoopbackServer, Route
    from transforms.sources.errors import FetchError
    from transforms.sources.http_client import HttpClient

    with LoopbackServer() as srv:
        srv.routes["/to-tls"] = Route(status=302, headers={"Location": f"https://localhost:{PORT}/_cluster/health"})
        trusting = HttpClient(timeout=10, min_gap=0)
        trusting.pool = urllib3.PoolManager(retries=False, cert_reqs="CERT_REQUIRED",
                                            ca_certs=str(secure_node.es.ca_cert))
        with pytest.raises(FetchError) as info:
            trusting.get(srv.url("/to-tls"))
        assert (info.value.kind, info.value.http_status) == ("http_status", 401)  # handshake done, name verified
        with pytest.raises(FetchError) as info:
            HttpClient(timeout=10, min_gap=0).get(srv.url("/to-tls"))
        assert info.value.kind == "tls"
