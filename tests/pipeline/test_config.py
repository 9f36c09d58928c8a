"""The config is refused before anything runs, with the key named."""

import re
from pathlib import Path

import pytest

from pipeline.config import ConfigError, load_config, parse_config
from tests.conftest import REPO

BASE = {"feeds": [{"name": "xinhua-world", "url": "http://127.0.0.1:8000/xinhua.xml", "agency": "Xinhua"}]}


def parse(raw, env=None, base=Path("/cfg")):
    return parse_config(raw, base_dir=base, env=env or {})


def test_minimal_config_uses_the_local_node():
    cfg = parse(BASE)
    assert cfg.es.local is True
    assert cfg.es.hosts == ["http://127.0.0.1:9200"]
    assert cfg.es.index == "wirenews-articles"
    feed = cfg.feeds[0]
    assert (feed.name, feed.agency, feed.full_text, feed.poll_interval) == ("xinhua-world", "xinhua", False, 300)


def test_fetch_settings_default_to_polite_and_can_be_set():
    assert parse(BASE).fetch.min_gap == 0.5
    assert parse(BASE).fetch.concurrency == 8
    f = parse({**BASE, "fetch": {"min_gap": 0, "timeout": 5, "max_bytes": 1000, "concurrency": 8}}).fetch
    assert (f.min_gap, f.timeout, f.max_bytes, f.concurrency) == (0, 5, 1000, 8)


def test_hosts_from_config_and_environment_override():
    cfg = parse({**BASE, "elasticsearch": {"hosts": ["https://es.internal:9200/"], "index": "news"}})
    assert (cfg.es.hosts, cfg.es.index, cfg.es.local) == (["https://es.internal:9200"], "news", False)
    cfg = parse({**BASE, "elasticsearch": {"hosts": ["http://a:9200"]}},
                env={"WIRENEWS_ES_HOSTS": "http://b:9200, http://c:9200"})
    assert cfg.es.hosts == ["http://b:9200", "http://c:9200"]


def test_credentials_come_from_the_environment_and_are_never_shown():
    cfg = parse(BASE, env={"WIRENEWS_ES_USERNAME": "ingest", "WIRENEWS_ES_PASSWORD": "s3cret-pw"})
    assert cfg.es.auth_kind == "basic"
    assert "s3cret-pw" not in repr(cfg.es) and "s3cret-pw" not in repr(cfg)
    cfg = parse(BASE, env={"WIRENEWS_ES_API_KEY": "abc=="})
    assert cfg.es.auth_kind == "api_key" and "abc==" not in repr(cfg)


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ({"feeds": []}, "'feeds' is empty"),
        ({"feeds": [{"url": "http://x/a.xml"}]}, "feeds[0].name"),
        ({"feeds": [{"name": "a"}]}, "feeds[0].url"),
        ({"feeds": [{"name": "a", "url": "ftp://x/a.xml"}]}, "only http(s) URLs"),
        ({"feeds": [{"name": "a", "url": "http://x/1"}, {"name": "a", "url": "http://x/2"}]}, "used twice"),
        ({"feeds": [{"name": "a", "url": "http://x/1", "poll_interval": "5m"}]}, "feeds[0].poll_interval"),
        ({"feeds": [{"name": "a", "url": "http://x/1", "full_text": "yes"}]}, "feeds[0].full_text"),
        ({"feeds": [{"name": "a", "url": "http://x/1", "colour": "red"}]}, "feeds[0].['colour']"),
        ({**BASE, "elasticsearch": {"hosts": ["localhost:9200"]}}, "not an http(s) URL"),
        ({**BASE, "elasticsearch": {"index": "Wire News"}}, "elasticsearch.index"),
        ({**BASE, "elasticsearch": {"password": "x"}}, "WIRENEWS_ES_"),
        ({**BASE, "elasticsearch": {"bulk_max_docs": 0}}, "elasticsearch.bulk_max_docs"),
        ({**BASE, "extra": 1}, "unknown top-level key"),
        ({**BASE, "fetch": {"min_gap": -1}}, "fetch.min_gap"),
        ({**BASE, "fetch": {"concurrency": 0}}, "fetch.concurrency"),
        ({**BASE, "fetch": {"concurrency": 1.5}}, "fetch.concurrency"),
        ({**BASE, "fetch": {"timeout": 0}}, "fetch.timeout"),
        ({**BASE, "fetch": {"retries": 3}}, "fetch.['retries']"),
    ],
)
def test_bad_configs_name_the_key(raw, needle):
    with pytest.raises(ConfigError) as e:
        parse(raw)
    assert needle in str(e.value)


def test_username_without_password_is_refused():
    with pytest.raises(ConfigError, match="WIRENEWS_ES_PASSWORD"):
        parse(BASE, env={"WIRENEWS_ES_USERNAME": "u"})


def test_file_paths_resolve_against_the_config_and_feed_files_are_read(tmp_path):
    (tmp_path / "feeds.d").mkdir()
    (tmp_path / "feeds.d" / "a.yaml").write_text("feeds:\n  - name: drop\n    url: drop/*.xml\n")
    (tmp_path / "wn.yaml").write_text("feed_files: [feeds.d/*.yaml]\nfeeds:\n  - name: local\n    url: replay.xml\n")
    cfg = load_config(tmp_path / "wn.yaml")
    urls = {f.name: f.url for f in cfg.feeds}
    assert urls == {"local": str(tmp_path / "replay.xml"), "drop": str(tmp_path / "drop/*.xml")}


def test_unreadable_or_invalid_yaml(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.yaml")
    (tmp_path / "bad.yaml").write_text("feeds: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path / "bad.yaml")


def test_the_demo_config_is_valid():
    cfg = load_config(REPO / "configs" / "demo.yaml")
    assert cfg.es.local and len(cfg.feeds) >= 6
    assert all(f.url.startswith("http://127.0.0.1:") for f in cfg.feeds)


def test_stories_are_on_by_default_and_can_be_turned_off_or_batched():
    assert parse(BASE).stories.enabled is True
    s = parse({**BASE, "stories": {"enabled": False, "batch_size": 16}}).stories
    assert s.enabled is False and s.batch_size == 16
    for bad, needle in (({"enabled": "no"}, "stories.enabled"), ({"batch_size": 0}, "stories.batch_size"),
                        ({"copies": 3}, "stories.['copies']"), (["on"], "'stories' must be a mapping")):
        with pytest.raises(ConfigError, match=re.escape(needle)):
            parse({**BASE, "stories": bad})
