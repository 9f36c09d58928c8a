"""Which stories got somewhere: what the feed state's commit asks before it makes a poll current."""

from __future__ import annotations

from pipeline.elasticsearch.bootstrap import bootstrap, ensure_aux_indices
from transforms.sink import reached_index


def test_stories_are_found_in_the_index_or_among_the_dead_letters(es_client, es_settings):
    bootstrap(es_client, es_settings.index)
    ensure_aux_indices(es_client, es_settings)
    assert reached_index(es_client, es_settings.index, es_settings.deadletter_index, ["x", "y", "z"]) == set()
    written = es_client.index(index=es_settings.index, id="x", document={"title": "X"}, refresh=True)
    assert written["result"] == "created"
    es_client.index(index=es_settings.deadletter_index, id="y:1", document={"doc_id": "y", "feed": "f"})
    assert reached_index(es_client, es_settings.index, es_settings.deadletter_index, ["x", "y", "z"],
                         chunk=2) == {"x", "y"}
