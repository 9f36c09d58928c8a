"""Bootstrap and migration against the real local node."""

from __future__ import annotations

import copy
import logging

import pytest
from elasticsearch import BadRequestError

from pipeline.elasticsearch.bootstrap import (
    BootstrapError,
    bootstrap,
    ensure_aux_indices,
    load_template,
    migrate,
    write_index,
)
from transforms.sink.bulk import ElasticsearchSink, IndexRequest

pytestmark = pytest.mark.integration


def test_first_run_creates_template_index_and_write_alias_and_a_second_run_is_harmless(es_settings, es_client):
    alias = es_settings.index
    assert bootstrap(es_client, alias) == f"{alias}-v1"
    assert bootstrap(es_client, alias) == f"{alias}-v1"
    aliases = es_client.indices.get_alias(name=alias).body
    assert aliases == {f"{alias}-v1": {"aliases": {alias: {"is_write_index": True}}}}
    mapping = es_client.indices.get_mapping(index=f"{alias}-v1").body[f"{alias}-v1"]["mappings"]
    assert mapping["dynamic"] == "strict"
    assert mapping["properties"]["title"]["fields"]["keyword"]["type"] == "keyword"
    assert mapping["_meta"]["mapping_version"] == load_template()["mapping_version"]
    tpl = es_client.indices.get_index_template(name=alias).body["index_templates"][0]["index_template"]
    assert tpl["index_patterns"] == [f"{alias}-v*"]


def test_the_strict_mapping_refuses_unknown_fields(es_settings, es_client):
    bootstrap(es_client, es_settings.index)
    with pytest.raises(BadRequestError, match="strict"):
        es_client.index(index=es_settings.index, id="x", document={"surprise": 1})


def test_a_concrete_index_in_the_alias_place_is_refused(es_settings, es_client):
    es_client.indices.create(index=es_settings.index)
    with pytest.raises(BootstrapError, match="concrete index"):
        bootstrap(es_client, es_settings.index)


def test_a_stray_versioned_index_without_the_alias_is_left_alone(es_settings, es_client):
    alias = es_settings.index
    es_client.indices.create(index=f"{alias}-v1")
    assert bootstrap(es_client, alias) == f"{alias}-v2"  # v1 may hold anything: never adopt it blindly
    assert write_index(es_client, alias) == f"{alias}-v2"


def test_aux_indices_are_created_once(es_settings, es_client):
    from transforms.sources.feed_state import STATE_MAPPING, FeedState, FeedStateStore

    assert ensure_aux_indices(es_client, es_settings) == (es_settings.deadletter_index, es_settings.state_index)
    ensure_aux_indices(es_client, es_settings)
    mapping = es_client.indices.get_mapping(index=es_settings.deadletter_index).body
    assert mapping[es_settings.deadletter_index]["mappings"]["properties"]["document"]["enabled"] is False
    state_mapping = es_client.indices.get_mapping(index=es_settings.state_index).body
    assert set(state_mapping[es_settings.state_index]["mappings"]["properties"]) == set(STATE_MAPPING["properties"])
    store = FeedStateStore(es_client, es_settings.state_index)
    store.put(FeedState(name="feed-a", url="http://127.0.0.1/x.xml", etag='"abc"', consecutive_failures=2,
                        next_poll_at="2026-01-01T00:05:00Z"))
    assert store.get("feed-a").etag == '"abc"'


def test_migrate_copies_everything_and_switches_the_alias_atomically(es_settings, es_client, caplog):
    alias = es_settings.index
    bootstrap(es_client, alias)
    sink = ElasticsearchSink(es_client, alias)
    docs = [IndexRequest(f"id-{i}", {"title": f"Story {i}", "word_count": i}) for i in range(120)]
    sink.write(docs)
    changed = copy.deepcopy(load_template())
    changed["mapping_version"] += 1
    changed["template"]["mappings"]["properties"]["flags"] = {"type": "keyword", "ignore_above": 64}
    with caplog.at_level(logging.WARNING, logger="pipeline.elasticsearch.bootstrap"):
        bootstrap(es_client, alias, changed)
    assert "run the migration" in caplog.text
    new = migrate(es_client, alias, changed)
    assert new == f"{alias}-v2"
    assert es_client.indices.get_alias(name=alias).body == {new: {"aliases": {alias: {"is_write_index": True}}}}
    es_client.indices.refresh(index=alias)
    assert es_client.count(index=alias)["count"] == 120
    got = es_client.get(index=alias, id="id-7")
    assert got["_index"] == new and got["_source"] == {"title": "Story 7", "word_count": 7}
    mapping = es_client.indices.get_mapping(index=new).body[new]["mappings"]
    assert mapping["properties"]["flags"]["ignore_above"] == 64
    assert es_client.indices.exists(index=f"{alias}-v1")  # kept until the operator deletes it
    assert bootstrap(es_client, alias, changed) == new


def test_migrate_refuses_without_an_alias(es_settings, es_client):
    with pytest.raises(BootstrapError, match="bootstrap first"):
        migrate(es_client, es_settings.index)
