"""The CLI's own commands that need no pipeline run: config check, index status and migrate, kibana export."""

from __future__ import annotations

import argparse
import json

import pytest
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
    assert views[0]["id"] == f"wirenews-articles--{es_settings.index}"  # not the default config's id


@pytest.mark.integration
def test_search_prints_results_and_nothing_on_stderr(tmp_path, capsys, es_settings, es_client):
    cfg = write_cfg(tmp_path, es_settings)
    assert main(["index", "bootstrap", "-c", cfg]) == 0
    es_client.index(index=es_settings.index, id="s1", refresh=True, document={
        "title": "Harbour talks resume", "body": "The harbour talks resumed in Piraeus on Monday.", "agency": "ana"})
    capsys.readouterr()
    assert main(["search", "-c", cfg, "harbour", "--filter", "agency=ana"]) == 0
    out, err = capsys.readouterr()
    assert "1 article(s) match" in out and "ends: …'The harbour talks resumed in Piraeus on Monday.'" in out
    assert err == ""


@pytest.mark.integration
def test_search_of_an_index_not_created_yet_is_one_line(tmp_path, capsys, es_settings):
    assert main(["search", "-c", write_cfg(tmp_path, es_settings), "harbour"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert err.endswith(f"{es_settings.index}: no such index or alias on {es_settings.hosts[0]}: nothing was indexed "
                        f"with this config yet (wirenews run -c {tmp_path / 'c.yaml'})")


@pytest.mark.integration
def test_migrate_before_bootstrap_is_one_line(tmp_path, capsys, es_settings):
    assert main(["index", "migrate", "-c", write_cfg(tmp_path, es_settings)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.endswith(f"{es_settings.index}: alias '{es_settings.index}' does not exist yet: "
                                              f"run bootstrap first")


def test_every_argument_has_help():
    from pipeline.cli.parser import build_parser, option_strings

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = [f"{name} {action.dest}" for name, cmd in sub.choices.items() for action in cmd._actions
               if not action.help and action.dest != "help"]
    assert missing == []
    assert "--summary-json" in option_strings(sub.choices["run"])


def test_index_status_bootstrap_and_migrate(tmp_path, capsys, es_settings, es_client):
    cfg = write_cfg(tmp_path, es_settings)
    alias = es_settings.index
    assert main(["index", "status", "-c", cfg]) == 0
    assert "not created yet" in capsys.readouterr().out
    assert main(["index", "bootstrap", "-c", cfg]) == 0
    assert capsys.readouterr().out.strip() == f"{alias}-v1"
    es_client.index(index=alias, id="x1", document={"title": "One", "guid": "x1"}, refresh=True)
    assert main(["index", "migrate", "-c", cfg]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == f"{alias}-v2"
    assert "WARNING" not in err and "elastic_transport" not in err, err  # a successful migration says so quietly
    assert main(["index", "status", "-c", cfg]) == 0
    assert f"{alias} -> {alias}-v2" in capsys.readouterr().out
    assert es_client.get(index=alias, id="x1")["_source"]["title"] == "One"
