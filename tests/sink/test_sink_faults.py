"""The sink under faults, through a loopback proxy in front of the real node.

The shared node is never stopped: the proxy drops connections and refuses new
ones (as a stopped node does), or answers 429 like a node with a full queue.
"""

from __future__ import annotations

import dataclasses

import apache_beam as beam
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.test_pipeline import TestPipeline

from pipeline.elasticsearch.bootstrap import bootstrap, ensure_aux_indices
from tests.faultproxy import BULK, Fault, FaultProxy
from tests.sink.test_index_pipeline import counters, make_article
from transforms.elastic import make_client
from transforms.sink.bulk import BulkRetriesExhausted, StoredLookup
from transforms.sink.index import SkipUnchanged, WriteToElasticsearch

pytestmark = pytest.mark.integration

N = 240


@pytest.fixture
def proxy(es_url):
    with FaultProxy(es_url) as p:
        yield p


def through(settings, proxy: FaultProxy, **changes):
    return dataclasses.replace(settings, hosts=[proxy.url], request_timeout=10.0, **changes)


def run(settings, articles, tmp_path, *, skip_unchanged: bool = False, **sink_options):
    p = TestPipeline(runner=FnApiRunner())
    pc = p | beam.Create(articles)
    if skip_unchanged:
        pc = pc | SkipUnchanged(settings, batch_size=50, backoff_initial=0.1, backoff_max=1.0)
    _ = pc | WriteToElasticsearch(settings, pipeline_version="test",
                                  deadletter_path=str(tmp_path / "deadletter.ndjson"), **sink_options)
    result = p.run()
    result.wait_until_finish()
    return counters(result, "wirenews")


def stored_ids(client, alias) -> list[str]:
    client.indices.refresh(index=alias)
    hits = client.search(index=alias, size=N + 50, source=False)["hits"]
    assert hits["total"]["value"] == len(hits["hits"])
    return sorted(h["_id"] for h in hits["hits"])


@pytest.fixture
def ready(es_settings, es_client):
    bootstrap(es_client, es_settings.index)
    ensure_aux_indices(es_client, es_settings)
    return es_settings


def test_outage_mid_run_completes_once_the_node_is_back(ready, es_client, proxy, tmp_path):
    settings = through(ready, proxy, bulk_max_docs=20, max_retries=10)
    articles = [make_article(i) for i in range(N)]
    proxy.cut_after(3, seconds=2.0)
    got = run(settings, articles, tmp_path, backoff_initial=0.2, backoff_max=1.5)
    assert proxy.stats.cuts == 1
    assert got.get("articles_retried", 0) >= 1
    assert got.get("articles_dead_lettered", 0) == 0
    assert stored_ids(es_client, ready.index) == sorted(a.id for a in articles)
    assert not (tmp_path / "deadletter.ndjson").exists()


def test_outage_longer_than_the_retry_budget_fails_loudly_and_a_rerun_completes(ready, es_client, proxy,
                                                                                tmp_path):
    settings = through(ready, proxy, bulk_max_docs=20, max_retries=2)
    articles = [make_article(i) for i in range(N)]
    proxy.cut_after(2, seconds=None)
    with pytest.raises(Exception) as info:
        run(settings, articles, tmp_path, backoff_initial=0.05, backoff_max=0.1)
    assert "BulkRetriesExhausted" in repr(info.value) or isinstance(info.value, BulkRetriesExhausted)
    partial = stored_ids(es_client, ready.index)
    assert 0 < len(partial) < N
    proxy.restore()
    got = run(settings, articles, tmp_path, skip_unchanged=True, backoff_initial=0.05, backoff_max=0.1)
    assert got.get("articles_unchanged") == len(partial)
    assert got.get("articles_new") == N - len(partial)
    assert stored_ids(es_client, ready.index) == sorted(a.id for a in articles)


def test_whole_bulk_429s_are_retried_until_everything_lands(ready, es_client, proxy, tmp_path):
    settings = through(ready, proxy, bulk_max_docs=25, max_retries=12)
    proxy.faults.append(Fault("status", path=BULK, status=429, share=0.4))
    articles = [make_article(i) for i in range(N)]
    got = run(settings, articles, tmp_path, backoff_initial=0.01, backoff_max=0.05)
    assert proxy.stats.faults["status"] > 0
    assert got.get("articles_retried") == proxy.stats.items_rejected
    assert got.get("articles_new") == N
    assert stored_ids(es_client, ready.index) == sorted(a.id for a in articles)


def test_per_item_429s_resend_only_the_rejected_items(ready, es_client, proxy, tmp_path):
    settings = through(ready, proxy, bulk_max_docs=40, max_retries=12)
    proxy.faults.append(Fault("items_429", path=BULK, item_share=0.3, share=1.0))
    articles = [make_article(i) for i in range(N)]
    got = run(settings, articles, tmp_path, backoff_initial=0.01, backoff_max=0.05)
    assert proxy.stats.items_rejected > 0
    assert got.get("articles_retried") == proxy.stats.items_rejected
    assert got.get("articles_new") == N
    assert stored_ids(es_client, ready.index) == sorted(a.id for a in articles)


def test_the_hash_lookup_waits_out_an_outage(ready, es_client, proxy, tmp_path):
    stored = [make_article(i) for i in range(10)]
    run(ready, stored, tmp_path)
    client = make_client(through(ready, proxy))
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # the node comes back while the lookup backs off
        waits.append(seconds)
        if len(waits) == 2:
            proxy.restore()

    lookup = StoredLookup(client, ready.index, max_retries=5, backoff_initial=0.01, sleep=sleep)
    proxy.cut()
    found = lookup.lookup([a.id for a in stored] + ["id-50"])
    client.close()
    assert len(waits) == 2
    assert set(found) == {a.id for a in stored}
    assert found["id-3"]["content_hash"] == stored[3].content_hash


def test_the_hash_lookup_fails_loudly_when_the_node_stays_away(ready, proxy):
    client = make_client(through(ready, proxy))
    proxy.cut()
    lookup = StoredLookup(client, ready.index, max_retries=2, sleep=lambda s: None)
    with pytest.raises(BulkRetriesExhausted):
        lookup.lookup(["id-1"])
    client.close()
