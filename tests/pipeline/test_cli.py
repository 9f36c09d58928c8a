"""The CLI's own commands that need no pipeline run: config check, index status and migrate, kibana export."""

from __future__ import annotations

import json

import yaml

from pipeline.cli import main


def write_cfg(tmp_path, es_settings):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"elasticsearch": {"hosts": es_settings.hosts, "index": es_settings.index},
                                    "feeds": [{"name": "a", "url": "http://127.0.0.1:9/a.xml"}]}))
    return str(path)


def test_config_check_reports_ok_and_bad(tmp_path, capsys):
    good = tmp_path / "g.yaml"
    good.write_text("feeds:\n  - name: a\n    url: http://127.0.0.1:9/a.xml\n")
    assert main(["config", "check", "-c", str(good)]) == 0
    assert "1 feed(s)" in capsys.readouterr().out
    bad = tmp_path / "b.yaml"
    bad.write_text("feeds:\n  - name: a\n    url: gopher://x\n")
    assert main(["config", "check", "-c", str(bad)]) == 2


def test_kibana_export_points_the_data_view_at_the_configured_alias(tmp_path, capsys, es_settings):
    assert main(["kibana", "export", "-c", write_cfg(tmp_path, es_settings)]) == 0
    objects = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    views = [o for o in objects if o.get("type") == "index-pattern"]
    assert views and all(v["attributes"]["title"] == es_settings.index for v in views)


def test_index_status_bootstrap_and_migrate(tmp_path, capsys, es_settings, es_client):
    cfg = write_cfg(tmp_path, es_settings)
    alias = es_settings.index
    assert main(["index", "status", "-c", cfg]) == 0
    assert "not created yet" in capsys.readouterr().out
    assert main(["index", "bootstrap", "-c", cfg]) == 0
    assert capsys.readouterr().out.strip() == f"{alias}-v1"
    es_client.index(index=alias, id="x1", document={"title": "One", "guid": "x1"}, refresh=True)
    assert main(["index", "migrate", "-c", cfg]) == 0
    assert capsys.readouterr().out.strip() == f"{alias}-v2"
    assert main(["index", "status", "-c", cfg]) == 0
    assert f"{alias} -> {alias}-v2" in capsys.readouterr().out
    assert es_client.get(index=alias, id="x1")["_source"]["title"] == "One"
