"""`wirenews deadletter list|replay` against the real local node: refused by the mapping, fixed, replayed."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from pipeline.cli import main
from pipeline.elasticsearch.bootstrap import bootstrap, ensure_aux_indices, load_template, migrate
from transforms.article import Article
from transforms.sink.bulk import ElasticsearchSink, IndexRequest
from transforms.sink.deadletters import DeadLetter
from transforms.sink.document import to_document

pytestmark = pytest.mark.integration

WHEN = datetime(2026, 5, 4, 7, 30, tzinfo=timezone.utc)


def story(n: int, title: str, **extra) -> IndexRequest:
    """A real article document, plus fields the mapping may not know yet."""
    art = Article(id=f"story-{n}", guid=f"urn:ana:{n}", url=f"https://ana.example/{n}",
                  canonical_url=f"https://ana.example/{n}", title=title, text=f"{title}. The talks went on.",
                  feed_name="ana-wire", agency="ana", published_at="2026-05-04T06:00:00Z")
    return IndexRequest(art.id, {**to_document(art, pipeline_version="test", now=WHEN), **extra}, "ana-wire")


def test_refused_by_the_mapping_then_fixed_then_replayed_once(tmp_path, capsys, es_settings, es_client):
    alias, dead_index = es_settings.index, es_settings.deadletter_index
    cfg = tmp_path / "wn.yaml"
    cfg.write_text(yaml.safe_dump({"elasticsearch": {"hosts": es_settings.hosts, "index": alias},
                                   "feeds": [{"name": "ana-wire", "url": "http://127.0.0.1:9/ana.xml"}]}))
    local_file = tmp_path / "deadletter.ndjson"
    bootstrap(es_client, alias)
    ensure_aux_indices(es_client, es_settings)
    extra = {"embargo": {"note": "GREECE-PORT", "hours": 3}}
    # A run's sink: two stories refused for a field the mapping lacks, one for a value no mapping takes,
    # and one more that could not reach the dead-letter index and went to the local file.
    sink = ElasticsearchSink(es_client, alias, deadletter_index=dead_index, deadletter_path=str(local_file))
    report = sink.write([story(1, "Port strike ends", **extra), story(2, "Ferries sail again", **extra),
                         story(3, "Tanker fees", word_count="many"), story(4, "Dockers vote")])
    assert len(report.dead_letters) == 3 and [r.id for r in report.created] == ["story-4"]
    ElasticsearchSink(es_client, alias, deadletter_path=str(local_file)).write([story(5, "Quay repaired", **extra)])
    assert len(local_file.read_text().splitlines()) == 1
    es_client.indices.refresh(index=dead_index)

    assert main(["deadletter", "list", "-c", str(cfg), "--file", str(local_file)]) == 0
    out = capsys.readouterr().out
    assert f"index {dead_index}: 3 record(s)" in out and f"file  {local_file}: 1 record(s)" in out
    assert ("3  strict_dynamic_mapping_exception: mapping set to strict, dynamic introduction of [embargo] within "
            "[_doc] is not allowed") in out
    assert "1  document_parsing_exception: failed to parse field [word_count] of type [integer]" in out
    assert main(["deadletter", "list", "-c", str(cfg), "--file", str(local_file), "--json", "--reason", "EMBARGO"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert sorted(r["doc_id"] for r in listed["records"]) == ["story-1", "story-2", "story-5"]
    assert listed["reasons"] == [{"reason": DeadLetter("index", "", listed["records"][0]).reason, "count": 3}]

    # Replayed before the fix: refused again, stored again under the same ids, nothing piles up.
    assert main(["deadletter", "replay", "-c", str(cfg), "--file", str(local_file)]) == 1
    assert "0 indexed and removed from the dead letters, 4 refused again" in capsys.readouterr().out
    es_client.indices.refresh(index=dead_index)
    assert es_client.count(index=dead_index)["count"] == 4  # the file's record moved to the index
    assert local_file.read_text() == ""

    # The fix: the mapping learns the field (a new index version behind the alias, the documents copied).
    fixed = copy.deepcopy(load_template())
    fixed["mapping_version"] += 1
    fixed["template"]["mappings"]["properties"]["embargo"] = {
        "properties": {"note": {"type": "keyword"}, "hours": {"type": "integer"}}}
    assert migrate(es_client, alias, fixed) == f"{alias}-v2"

    assert main(["deadletter", "replay", "-c", str(cfg), "--file", str(local_file), "--reason", "strict"]) == 0
    assert "replayed 3 record(s) into " + alias + ": 3 indexed and removed" in capsys.readouterr().out
    es_client.indices.refresh(index=[alias, dead_index])
    for n in (1, 2, 5):
        doc = es_client.get(index=alias, id=f"story-{n}")
        assert doc["_index"] == f"{alias}-v2" and doc["_source"]["embargo"]["note"] == "GREECE-PORT"
        assert doc["_version"] == 1  # written once
    assert es_client.count(index=alias)["count"] == 4  # stories 1, 2, 4, 5: each once
    left = [h["_source"]["doc_id"] for h in es_client.search(index=dead_index)["hits"]["hits"]]
    assert left == ["story-3"]  # what still fails stays, counted

    assert main(["deadletter", "replay", "-c", str(cfg), "--file", str(local_file)]) == 1
    assert "0 indexed and removed from the dead letters, 1 refused again" in capsys.readouterr().out
    es_client.indices.refresh(index=dead_index)
    assert es_client.count(index=dead_index)["count"] == 1


def test_a_record_whose_article_was_indexed_since_is_removed_not_written(tmp_path, capsys, es_settings, es_client):
    alias, dead_index = es_settings.index, es_settings.deadletter_index
    cfg = tmp_path / "wn.yaml"
    cfg.write_text(yaml.safe_dump({"elasticsearch": {"hosts": es_settings.hosts, "index": alias},
                                   "feeds": [{"name": "ana-wire", "url": "http://127.0.0.1:9/ana.xml"}]}))
    bootstrap(es_client, alias)
    ensure_aux_indices(es_client, es_settings)
    old = story(1, "Port strike ends", embargo={"note": "GREECE-PORT"})
    ElasticsearchSink(es_client, alias, deadletter_index=dead_index).write([old])
    newer = story(1, "Port strike ends, ships leave")
    newer.doc["ingested_at"] = "2026-05-05T00:00:00Z"  # a later run indexed the story's next version
    ElasticsearchSink(es_client, alias).write([newer])
    es_client.indices.refresh(index=dead_index)
    assert main(["deadletter", "replay", "-c", str(cfg), "--file", str(tmp_path / "none.ndjson")]) == 0
    assert "0 indexed and removed from the dead letters, 0 refused again (kept, with the newest reason), 1 stale" in (
        capsys.readouterr().out)
    es_client.indices.refresh(index=dead_index)
    assert es_client.count(index=dead_index)["count"] == 0
    assert es_client.get(index=alias, id="story-1")["_source"]["title"] == "Port strike ends, ships leave"


def test_a_missing_dead_letter_store_lists_as_empty(tmp_path, capsys, es_settings):
    cfg = tmp_path / "wn.yaml"
    cfg.write_text(yaml.safe_dump({"elasticsearch": {"hosts": es_settings.hosts, "index": es_settings.index},
                                   "feeds": [{"name": "a", "url": "http://127.0.0.1:9/a.xml"}]}))
    assert main(["deadletter", "list", "-c", str(cfg), "--file", str(tmp_path / "none.ndjson")]) == 0
    out = capsys.readouterr().out
    assert f"index {es_settings.deadletter_index}: none (not created yet)" in out
    assert f"file  {Path(tmp_path / 'none.ndjson')}: none (no such file)" in out
    assert main(["deadletter", "replay", "-c", str(cfg), "--file", str(tmp_path / "none.ndjson")]) == 0
    assert capsys.readouterr().out.strip() == "nothing to replay"
