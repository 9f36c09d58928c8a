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
    assert parse(BASE).fetch.concurrency == 8 and parse(BASE).fetch.read_ahead == 500
    f = parse({**BASE, "fetch": {"min_gap": 0, "timeout": 5, "max_bytes": 1000, "concurrency": 8,
                                 "read_ahead": 200}}).fetch
    assert (f.min_gap, f.timeout, f.max_bytes, f.concurrency, f.read_ahead) == (0, 5, 1000, 8, 200)


def test_politeness_settings_and_per_host_limits():
    f = parse(BASE).fetch
    assert (f.min_gap_not_modified, f.robots, f.max_crawl_delay, f.max_ttl, f.hosts) == (0.02, True, 10.0, 3600.0, {})
    f = parse({**BASE, "fetch": {"min_gap_not_modified": 0, "robots": False, "max_ttl": 0, "max_crawl_delay": 30,
                                 "hosts": {"News.Example": {"min_gap": 1.0, "concurrency": 2},
                                           "own.example": {"min_gap_not_modified": 0}}}}).fetch
    policy = f.policy()
    assert not policy.robots and policy.max_ttl == 0 and policy.max_crawl_delay == 30
    assert policy.gaps("news.example", default=9.0) == (1.0, 0.0) and policy.concurrency("news.example") == 2
    assert policy.gaps("own.example", default=9.0) == (0.5, 0.0) and policy.concurrency("own.example") == 1


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
        ({"feeds": [{"name": "a", "url": "http://x/1", "format": "rss"}]}, "feeds[0].format 'rss' is not a format"),
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
        ({**BASE, "fetch": {"read_ahead": 0}}, "fetch.read_ahead"),
        ({**BASE, "fetch": {"timeout": 0}}, "fetch.timeout"),
        ({**BASE, "fetch": {"retries": 3}}, "fetch.['retries']"),
        ({**BASE, "fetch": {"min_gap_not_modified": -0.1}}, "fetch.min_gap_not_modified must be a number >= 0"),
        ({**BASE, "fetch": {"robots": "no"}}, "fetch.robots must be true or false"),
        ({**BASE, "fetch": {"max_ttl": "1h"}}, "fetch.max_ttl must be a number >= 0"),
        ({**BASE, "fetch": {"hosts": ["a.example"]}}, "fetch.hosts must be a mapping of host names"),
        ({**BASE, "fetch": {"hosts": {"https://a.example/": {"min_gap": 1}}}}, "is not a host name"),
        ({**BASE, "fetch": {"hosts": {"a.example:8080": {"min_gap": 1}}}}, "is not a host name"),
        ({**BASE, "fetch": {"hosts": {"a.example": None}}}, "fetch.hosts.a.example must be a mapping"),
        ({**BASE, "fetch": {"hosts": {"a.example": {"gap": 1}}}}, "fetch.hosts.a.example.['gap']"),
        ({**BASE, "fetch": {"hosts": {"a.example": {"concurrency": 0}}}},
         "fetch.hosts.a.example.concurrency must be a whole number >= 1"),
        ({**BASE, "fetch": {"hosts": {"a.example": {"min_gap": -1}}}}, "fetch.hosts.a.example.min_gap"),
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
    (tmp_path / "drop").mkdir()
    (tmp_path / "replay.xml").write_text("<rss/>")
    (tmp_path / "feeds.d" / "a.yaml").write_text("feeds:\n  - name: drop\n    url: drop/*.xml\n")
    (tmp_path / "wn.yaml").write_text("feed_files: [feeds.d/*.yaml]\nfeeds:\n  - name: local\n    url: replay.xml\n")
    cfg = load_config(tmp_path / "wn.yaml")
    urls = {f.name: f.url for f in cfg.feeds}
    assert urls == {"local": str(tmp_path / "replay.xml"), "drop": str(tmp_path / "drop/*.xml")}


def one_feed(tmp_path, url: str) -> Path:
    path = tmp_path / "wn.yaml"
    path.write_text(f"feeds:\n  - name: wire\n    url: '{url}'\n")
    return path


@pytest.mark.parametrize(("url", "needle"), [
    ("127.0.0.1:8765/x.xml", "a web feed needs its scheme: 'http://127.0.0.1:8765/x.xml'"),
    ("www.example.org/feed.xml", "a web feed needs its scheme: 'http://www.example.org/feed.xml'"),
    ("localhost:8765/feed.xml", "a web feed needs its scheme: 'http://localhost:8765/feed.xml'"),
])
def test_a_feed_url_without_its_scheme_is_refused_with_the_url_to_write(tmp_path, url, needle):
    with pytest.raises(ConfigError) as e:
        load_config(one_feed(tmp_path, url))
    message = str(e.value)
    assert "feeds[0].url" in message and "(feed 'wire')" in message and needle in message
    assert "\n" not in message


def test_a_file_or_folder_that_is_not_there_is_refused_at_config_time(tmp_path):
    with pytest.raises(ConfigError, match=r"feeds\[0\]\.url 'replay.xml' \(feed 'wire'\): no such file") as e:
        load_config(one_feed(tmp_path, "replay.xml"))
    assert "scheme" not in str(e.value)  # a file name is not taken for a host
    with pytest.raises(ConfigError, match="the folder .*/drop does not exist"):
        load_config(one_feed(tmp_path, "drop/*.xml"))
    (tmp_path / "drop").mkdir()
    with pytest.raises(ConfigError, match=r"is a folder: name its files with a glob, e\.g\. .*/drop/\*\.xml"):
        load_config(one_feed(tmp_path, "drop"))


def test_an_empty_drop_folder_is_accepted_with_a_warning(tmp_path, caplog):
    (tmp_path / "drop").mkdir()
    cfg = load_config(one_feed(tmp_path, "drop/*.xml"))
    assert cfg.feeds[0].url == str(tmp_path / "drop" / "*.xml")
    assert "nothing matches yet" in caplog.text
    (tmp_path / "drop" / "one.xml").write_text("<rss/>")
    caplog.clear()
    load_config(one_feed(tmp_path, "drop/*.xml"))
    assert "nothing matches" not in caplog.text


def test_commands_that_read_no_feed_skip_the_file_checks(tmp_path):
    cfg = load_config(one_feed(tmp_path, "/srv/nowhere/*.xml"), check_files=False)
    assert cfg.feeds[0].url == "/srv/nowhere/*.xml"


def test_unreadable_or_invalid_yaml(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.yaml")
    (tmp_path / "bad.yaml").write_text("feeds: [\n")
    with pytest.raises(ConfigError, match="not valid YAML: .* at line 2, column 1$"):
        load_config(tmp_path / "bad.yaml")
    with pytest.raises(ConfigError, match="is a directory, not the config"):
        load_config(tmp_path)


def test_a_binary_config_or_feed_file_is_named_not_a_traceback(tmp_path):
    (tmp_path / "wn.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xb5")
    with pytest.raises(ConfigError, match=r"wn\.yaml: the config is not UTF-8 text \(byte 0x89 at offset 0\)"):
        load_config(tmp_path / "wn.yaml")
    (tmp_path / "feeds.d").mkdir()
    (tmp_path / "feeds.d" / "a.yaml").write_bytes("feeds: [{name: caf\u00e9}]".encode("latin-1"))
    (tmp_path / "wn.yaml").write_text("feed_files: [feeds.d/*.yaml]\n")
    with pytest.raises(ConfigError, match=r"a\.yaml: the feed file is not UTF-8 text \(byte 0xe9 at offset 18\)"):
        load_config(tmp_path / "wn.yaml")


def test_a_feed_may_force_how_its_bodies_are_read():
    feeds = [{"name": "a", "url": "http://x/1", "format": "nitf"}, {"name": "b", "url": "http://x/2", "format": "feed"},
             {"name": "c", "url": "http://x/3"}]
    assert [f.format for f in parse({"feeds": feeds}).feeds] == ["nitf", "feed", None]


def test_the_demo_config_is_valid():
    cfg = load_config(REPO / "configs" / "demo.yaml")
    assert cfg.es.local and len(cfg.feeds) >= 6
    [drop] = [f for f in cfg.feeds if not f.url.startswith("http://127.0.0.1:")]
    assert drop.url == str(REPO / "samples" / "wire" / "*.*")  # resolved against the config's folder


def test_stories_are_on_by_default_and_can_be_turned_off_or_batched():
    assert parse(BASE).stories.enabled is True
    s = parse({**BASE, "stories": {"enabled": False, "batch_size": 16}}).stories
    assert s.enabled is False and s.batch_size == 16
    for bad, needle in (({"enabled": "no"}, "stories.enabled"), ({"batch_size": 0}, "stories.batch_size"),
                        ({"copies": 3}, "stories.['copies']"), (["on"], "'stories' must be a mapping")):
        with pytest.raises(ConfigError, match=re.escape(needle)):
            parse({**BASE, "stories": bad})
