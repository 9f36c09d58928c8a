"""Shared fixtures: the real local Elasticsearch and a loopback feed server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from transforms.elastic import EsSettings

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples" / "feeds"
DATA = REPO / "tests" / "data"
SHARED = REPO.parent / "shared"
CORPORA = SHARED / "corpora"
SEED = SHARED / "seed" / "xi-putin-china-org-cn.txt"


@pytest.fixture(scope="session")
def es_url() -> str:
    """The project-managed node (started if it does not answer yet), or WIRENEWS_TEST_ES_URL."""
    url = os.environ.get("WIRENEWS_TEST_ES_URL")
    if url:
        return url
    from pipeline.elasticsearch.local_node import LocalEs

    es = LocalEs.from_env(port=int(os.environ.get("WIRENEWS_ES_PORT", "9200")))
    return es.up()


@pytest.fixture
def es_settings(es_url: str) -> Iterator[EsSettings]:
    """Settings with an alias of its own, so tests never see each other's documents; removed afterwards."""
    alias = f"wn-test-{uuid.uuid4().hex[:10]}"
    settings = EsSettings(hosts=[es_url], index=alias, local=False)
    yield settings
    from transforms.elastic import make_client

    client = make_client(settings)
    try:
        client.indices.delete(index=f"{alias}*", ignore_unavailable=True, allow_no_indices=True)
        client.options(ignore_status=404).indices.delete_index_template(name=f"{alias}*")
    except Exception:  # noqa: BLE001 - cleanup must not mask the test's own result
        pass
    finally:
        client.close()


@pytest.fixture
def es_client(es_settings: EsSettings):
    from transforms.elastic import make_client

    client = make_client(es_settings)
    yield client
    client.close()


@pytest.fixture
def feed_server() -> Iterator[object]:
    """A loopback server serving samples/feeds; tests may add scripted routes."""
    from tests.loopback import LoopbackServer

    with LoopbackServer(SAMPLES) as srv:
        yield srv
