"""A second local node with security on and HTTPS, on port 9280, for the security scenarios.

It takes half a minute or more to start, so the suite starts it in the background as soon as it knows a
selected test needs it (see ``conftest.pytest_collection_finish``), and the other scenarios run
meanwhile. Users are made with the distribution's ``bin/elasticsearch-users`` (file realm), roles are
written to ``roles.yml``, the CA and certificate come from ``bin/elasticsearch-certutil``.
"""

from __future__ import annotations

import base64
import secrets
import time
from concurrent.futures import Future, ThreadPoolExecutor

from elasticsearch import Elasticsearch

from pipeline.elasticsearch.local_node import LocalEs

PORT = 9280  # never the shared node's port
PREFIX = "wn-sec-"  # every alias the security scenarios write starts with this
PIPELINE_CLUSTER = ["manage_index_templates"]
PIPELINE_INDEX = ["read", "write", "create_index", "view_index_metadata", "manage"]


class Node:
    def __init__(self, es: LocalEs, passwords: dict[str, str]) -> None:
        self.es = es
        self.passwords = passwords

    def client(self, user: str = "wn-pipeline") -> Elasticsearch:
        """A client as ``user``; the pipeline's own user can read back what it wrote."""
        return Elasticsearch(self.es.url, basic_auth=(user, self.passwords[user]), ca_certs=str(self.es.ca_cert),
                             request_timeout=30)

    def secrets(self) -> list[str]:
        """Every password, and every Basic token, that must never be printed."""
        out = []
        for user, pw in self.passwords.items():
            out += [pw, base64.b64encode(f"{user}:{pw}".encode()).decode()]
        return out


def start() -> Node:
    """The node, restarted clean if an interrupted session left it running, with fresh passwords."""
    passwords = {name: secrets.token_urlsafe(18) for name in ("wn-pipeline", "wn-reader")}
    es = LocalEs.from_env(port=PORT)
    es.security, es.tls = True, True
    es.down()
    es.lay_out()  # the node's config first: roles and users are written into it, and read as the node starts
    es.add_role("wirenews_pipeline", PIPELINE_CLUSTER, [{"names": [f"{PREFIX}*"], "privileges": PIPELINE_INDEX}])
    es.add_role("wirenews_reader", [], [{"names": [f"{PREFIX}*"], "privileges": ["read", "view_index_metadata"]}])
    _add_users(es, passwords)
    es.up(wait=300)
    node = Node(es, passwords)
    _wait_for_users(node)
    return node


def _add_users(es: LocalEs, passwords: dict[str, str]) -> None:
    es.add_user("wn-pipeline", passwords["wn-pipeline"], ["wirenews_pipeline"])
    es.add_user("wn-reader", passwords["wn-reader"], ["wirenews_reader"])


def _wait_for_users(node: Node) -> None:
    """A running node picks the users file up by itself within seconds (a bounded wait)."""
    deadline = time.monotonic() + 60
    for user in node.passwords:
        while True:
            client = node.client(user)
            try:
                client.security.authenticate()
                break
            except Exception:  # noqa: BLE001 - not reloaded yet
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
            finally:
                client.close()


_pool: ThreadPoolExecutor | None = None
_started: Future | None = None


def start_in_background() -> None:
    global _pool, _started
    if _started is None:
        _pool = ThreadPoolExecutor(1, thread_name_prefix="secure-node")
        _started = _pool.submit(start)


def get() -> Node:
    """The node: the one started in the background, else started now."""
    start_in_background()
    assert _started is not None
    return _started.result(timeout=600)


def stop() -> None:
    """Stop the node if this session started it (idempotent)."""
    global _started
    if _started is None:
        return
    started, _started = _started, None
    try:
        node = started.result(timeout=600)
    except Exception:  # noqa: BLE001 - it never came up; stop whatever did
        LocalEs.from_env(port=PORT).down()
        return
    node.es.down()
