"""The YAML config: read, validated and turned into plain settings before anything runs.

Errors name the key and the problem, so an operator can fix the file without
reading code. Credentials never come from the file, only from the environment.
"""

from __future__ import annotations

import glob
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from transforms.article import FeedSpec
from transforms.elastic import DEFAULT_INDEX, EsSettings
from transforms.sources.formats import FORMATS
from transforms.sources.politeness import (
    DEFAULT_MAX_CRAWL_DELAY,
    DEFAULT_MAX_TTL,
    DEFAULT_MIN_GAP,
    DEFAULT_MIN_GAP_NOT_MODIFIED,
    FetchPolicy,
    HostLimit,
)

log = logging.getLogger(__name__)

# A feed url that starts like a host ("www.example.org/feed.xml", "127.0.0.1:8765/x.xml"): the scheme was
# forgotten, and the url would otherwise be taken for a file path relative to the config.
_HOST_LIKE = re.compile(r"^(?:localhost|\d{1,3}(?:\.\d{1,3}){3}|(?:[a-z0-9-]+\.)+[a-z]{2,})(?::\d+(?:/|$)|/)", re.I)


class ConfigError(ValueError):
    """A config the pipeline refuses to run with; the message names the key."""


@dataclass
class FetchSettings:
    """How feeds are fetched; the defaults are polite to real publishers."""

    min_gap: float = DEFAULT_MIN_GAP  # seconds after a page before the next request to its host
    min_gap_not_modified: float = DEFAULT_MIN_GAP_NOT_MODIFIED  # after an answer without a body (304, redirect)
    timeout: float = 30.0  # seconds for a whole response
    max_bytes: int = 10_000_000  # a feed or page larger than this (decompressed) is refused
    concurrency: int = 8  # feeds polled at once per worker process (one request at a time per host still)
    read_ahead: int = 500  # articles a worker holds parsed ahead of cleaning and tagging (whole feeds: at least one)
    robots: bool = True  # obey each origin's robots.txt (Disallow, Crawl-delay)
    max_crawl_delay: float = DEFAULT_MAX_CRAWL_DELAY  # a robots.txt Crawl-delay counts up to this many seconds
    max_ttl: float = DEFAULT_MAX_TTL  # a feed's declared ttl/sy:updatePeriod counts up to this; 0 ignores them
    hosts: dict[str, HostLimit] = field(default_factory=dict)  # per host name: min_gap, ..., concurrency

    def policy(self) -> FetchPolicy:
        """The settings as the HTTP client takes them."""
        return FetchPolicy(min_gap=self.min_gap, min_gap_not_modified=self.min_gap_not_modified, hosts=self.hosts,
                           robots=self.robots, max_crawl_delay=self.max_crawl_delay, max_ttl=self.max_ttl)


@dataclass
class StorySettings:
    """Grouping the copies of one story (transforms.stories): on unless turned off."""

    enabled: bool = True
    batch_size: int = 64  # articles placed per lookup: a few requests to Elasticsearch per batch


@dataclass
class Config:
    es: EsSettings
    feeds: list[FeedSpec]
    fetch: FetchSettings = field(default_factory=FetchSettings)
    stories: StorySettings = field(default_factory=StorySettings)
    path: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


_TOP_KEYS = {"elasticsearch", "feeds", "feed_files", "fetch", "stories"}
_FETCH_KEYS = {"min_gap": (int, float), "min_gap_not_modified": (int, float), "timeout": (int, float),
               "max_bytes": int, "concurrency": int, "read_ahead": int, "max_crawl_delay": (int, float),
               "max_ttl": (int, float)}
_FETCH_ZERO_OK = {"min_gap", "min_gap_not_modified", "max_crawl_delay", "max_ttl"}  # 0 turns the thing off
_HOST_KEYS = {"min_gap": (int, float), "min_gap_not_modified": (int, float), "concurrency": int}
_HOST_NAME = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")
_ES_KEYS = {"hosts", "index", "verify_certs", "request_timeout", "bulk_max_docs", "bulk_max_bytes", "max_retries"}
_FEED_KEYS = {"name", "url", "agency", "full_text", "poll_interval", "format"}
# A feed's `format:` forces how its bodies are read: one of the wire formats, or "feed" (RSS, Atom, JSON Feed).
FEED_FORMATS = ("feed", *FORMATS)


def load_config(path: str | os.PathLike[str], env: dict[str, str] | None = None, *,
                check_files: bool = True) -> Config:
    """The config, validated; ``check_files`` False skips checking that feed files and folders exist here
    (for commands that never read feeds: search, index, kibana, dead letters)."""
    env = dict(os.environ) if env is None else env
    p = Path(path)
    raw = _read_yaml(p, "the config")
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the config must be a mapping with 'elasticsearch' and 'feeds'")
    return parse_config(raw, base_dir=p.parent, env=env, path=str(path), check_files=check_files)


def parse_config(raw: dict[str, Any], base_dir: Path, env: dict[str, str], path: str = "<config>", *,
                 check_files: bool = True) -> Config:
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown top-level key(s) {sorted(unknown)}; known: {sorted(_TOP_KEYS)}")
    es = _parse_es(raw.get("elasticsearch") or {}, env, path)
    feed_items = list(_as_list(raw.get("feeds") or [], "feeds", path))
    for pattern in _as_list(raw.get("feed_files") or [], "feed_files", path):
        feed_items += _read_feed_files(base_dir, str(pattern), path)
    if not feed_items:
        raise ConfigError(f"{path}: 'feeds' is empty: at least one feed is needed")
    feeds: list[FeedSpec] = []
    seen: set[str] = set()
    for i, item in enumerate(feed_items):
        spec = _parse_feed(item, f"feeds[{i}]", base_dir, path, check_files)
        if spec.name in seen:
            raise ConfigError(f"{path}: feeds[{i}].name {spec.name!r} is used twice; names must be unique")
        seen.add(spec.name)
        feeds.append(spec)
    return Config(es=es, feeds=feeds, fetch=_parse_fetch(raw.get("fetch") or {}, path),
                  stories=_parse_stories(raw.get("stories") or {}, path), path=path, raw=raw)


def _parse_fetch(raw: Any, path: str) -> FetchSettings:
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: 'fetch' must be a mapping")
    known = sorted({*_FETCH_KEYS, "robots", "hosts"})
    unknown = set(raw) - set(known)
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) fetch.{sorted(unknown)}; known: {known}")
    s = FetchSettings()
    for key, typ in _FETCH_KEYS.items():
        if key in raw:
            setattr(s, key, _number(raw[key], typ, f"fetch.{key}", key in _FETCH_ZERO_OK, path))
    if "robots" in raw:
        if not isinstance(raw["robots"], bool):
            raise ConfigError(f"{path}: fetch.robots must be true or false, got {raw['robots']!r}")
        s.robots = raw["robots"]
    s.hosts = _parse_hosts(raw.get("hosts") or {}, path)
    return s


def _number(val: Any, typ: Any, key: str, zero_ok: bool, path: str) -> Any:
    if not isinstance(val, typ) or isinstance(val, bool) or val < 0 or (not zero_ok and val == 0):
        what = "a number >= 0" if zero_ok else ("a whole number >= 1" if typ is int else "a positive number")
        raise ConfigError(f"{path}: {key} must be {what}, got {val!r}")
    return val


def _parse_hosts(raw: Any, path: str) -> dict[str, HostLimit]:
    """``fetch.hosts``: host name -> its own min_gap, min_gap_not_modified and concurrency."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: fetch.hosts must be a mapping of host names, e.g. "
                          "{'news.example': {min_gap: 1.0, concurrency: 1}}")
    hosts: dict[str, HostLimit] = {}
    for name, limits in raw.items():
        host = str(name).strip().lower()
        if not _HOST_NAME.match(host):
            raise ConfigError(f"{path}: fetch.hosts: {name!r} is not a host name (no scheme, port or path: "
                              f"'news.example', not 'https://news.example/')")
        where = f"fetch.hosts.{host}"
        if not isinstance(limits, dict) or not limits:
            raise ConfigError(f"{path}: {where} must be a mapping with {sorted(_HOST_KEYS)}")
        unknown = set(limits) - set(_HOST_KEYS)
        if unknown:
            raise ConfigError(f"{path}: unknown key(s) {where}.{sorted(unknown)}; known: {sorted(_HOST_KEYS)}")
        values = {key: _number(limits[key], typ, f"{where}.{key}", key != "concurrency", path)
                  for key, typ in _HOST_KEYS.items() if key in limits}
        hosts[host] = HostLimit(**values)
    return hosts


def _parse_stories(raw: Any, path: str) -> StorySettings:
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: 'stories' must be a mapping (enabled, batch_size)")
    unknown = set(raw) - {"enabled", "batch_size"}
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) stories.{sorted(unknown)}; known: ['batch_size', 'enabled']")
    s = StorySettings()
    if "enabled" in raw:
        if not isinstance(raw["enabled"], bool):
            raise ConfigError(f"{path}: stories.enabled must be true or false, got {raw['enabled']!r}")
        s.enabled = raw["enabled"]
    if "batch_size" in raw:
        val = raw["batch_size"]
        if not isinstance(val, int) or isinstance(val, bool) or val <= 0:
            raise ConfigError(f"{path}: stories.batch_size must be a positive whole number, got {val!r}")
        s.batch_size = val
    return s


def _parse_es(raw: Any, env: dict[str, str], path: str) -> EsSettings:
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: 'elasticsearch' must be a mapping")
    unknown = set(raw) - _ES_KEYS
    if unknown:
        hint = " (credentials belong in WIRENEWS_ES_* variables)" if unknown & {
            "api_key", "password", "username"} else ""
        raise ConfigError(f"{path}: unknown key(s) elasticsearch.{sorted(unknown)}{hint}")
    s = EsSettings()
    hosts = env.get("WIRENEWS_ES_HOSTS")
    host_list = [h.strip() for h in hosts.split(",") if h.strip()] if hosts else raw.get("hosts")
    if host_list:
        host_list = _as_list(host_list, "elasticsearch.hosts", path)
        for h in host_list:
            u = urlparse(str(h))
            if u.scheme not in ("http", "https") or not u.netloc:
                raise ConfigError(f"{path}: elasticsearch.hosts: {h!r} is not an http(s) URL")
        s.hosts = [str(h).rstrip("/") for h in host_list]
        s.local = False
    index = raw.get("index", DEFAULT_INDEX)
    if not isinstance(index, str) or not index or index != index.lower() or any(c in index for c in ' "*\\<|,>/?#:'):
        raise ConfigError(f"{path}: elasticsearch.index {index!r} is not a valid index name (lowercase, no spaces)")
    s.index = index
    for key, typ in (("request_timeout", (int, float)), ("bulk_max_docs", int), ("bulk_max_bytes", int),
                     ("max_retries", int)):
        if key in raw:
            val = raw[key]
            if not isinstance(val, typ) or isinstance(val, bool) or val <= 0:
                raise ConfigError(f"{path}: elasticsearch.{key} must be a positive number, got {val!r}")
            setattr(s, key, val)
    if "verify_certs" in raw:
        if not isinstance(raw["verify_certs"], bool):
            raise ConfigError(f"{path}: elasticsearch.verify_certs must be true or false")
        s.verify_certs = raw["verify_certs"]
    s.api_key = env.get("WIRENEWS_ES_API_KEY") or None
    s.username = env.get("WIRENEWS_ES_USERNAME") or None
    s.password = env.get("WIRENEWS_ES_PASSWORD") or None
    s.ca_certs = env.get("WIRENEWS_ES_CA_CERTS") or None
    if s.username and not s.password:
        raise ConfigError("WIRENEWS_ES_USERNAME is set but WIRENEWS_ES_PASSWORD is not")
    if s.ca_certs and not Path(s.ca_certs).is_file():
        raise ConfigError(f"WIRENEWS_ES_CA_CERTS: no such file {s.ca_certs!r}")
    return s


def _parse_feed(item: Any, where: str, base_dir: Path, path: str, check_files: bool = True) -> FeedSpec:
    if not isinstance(item, dict):
        raise ConfigError(f"{path}: {where} must be a mapping with at least 'name' and 'url'")
    unknown = set(item) - _FEED_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {where}.{sorted(unknown)}; known: {sorted(_FEED_KEYS)}")
    name, url = item.get("name"), item.get("url")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{path}: {where}.name is missing or empty")
    if not isinstance(url, str) or not url.strip():
        raise ConfigError(f"{path}: {where}.url is missing or empty (feed {name!r})")
    scheme = urlparse(url).scheme
    if scheme in ("http", "https"):
        pass
    elif scheme in ("", "file") or len(scheme) == 1:  # a path or glob (a one-letter scheme is a drive)
        local = url[len("file://"):] if scheme == "file" else url
        if not os.path.isabs(local):
            url = str((base_dir / local).resolve())
        else:
            url = local
        if check_files:
            _check_local(url, item["url"].strip(), f"{path}: {where}.url {item['url']!r} (feed {name!r})")
    else:
        raise ConfigError(f"{path}: {where}.url {url!r} (feed {name!r}): only http(s) URLs and file paths or "
                          f"globs are read{_scheme_hint(url)}")
    agency = item.get("agency")
    if agency is not None and (not isinstance(agency, str) or not agency.strip()):
        raise ConfigError(f"{path}: {where}.agency must be a non-empty string")
    full_text = item.get("full_text", False)
    if not isinstance(full_text, bool):
        raise ConfigError(f"{path}: {where}.full_text must be true or false")
    poll = item.get("poll_interval", 300)
    if not isinstance(poll, int) or isinstance(poll, bool) or poll < 1:
        raise ConfigError(f"{path}: {where}.poll_interval must be a whole number of seconds >= 1, got {poll!r}")
    fmt = item.get("format")
    if fmt is not None and fmt not in FEED_FORMATS:
        raise ConfigError(f"{path}: {where}.format {fmt!r} is not a format wirenews reads; "
                          f"known: {', '.join(FEED_FORMATS)}")
    return FeedSpec(name=name.strip(), url=url.strip(), agency=agency.strip().lower() if agency else None,
                    full_text=full_text, poll_interval=poll, format=fmt)


def _check_local(resolved: str, written: str, named: str) -> None:
    """A file feed's path must exist, and a glob's folder; an empty drop folder is fine (files come later)."""
    # Start-up: transforms.sources (feedparser, the HTTP client) only for the commands that read feeds.
    from transforms.sources.fetch import drop_folder_exists

    if glob.has_magic(resolved):
        if not drop_folder_exists(resolved):
            raise ConfigError(f"{named}: the folder {os.path.dirname(resolved)} does not exist"
                              f"{_scheme_hint(written)}")
        if not glob.glob(resolved):
            log.warning("%s: nothing matches yet (an empty drop folder is fine: its files are read as they come)",
                        named)
    elif os.path.isdir(resolved):
        raise ConfigError(f"{named}: {resolved} is a folder: name its files with a glob, e.g. "
                          f"{os.path.join(resolved, '*.xml')}")
    elif not os.path.exists(resolved):
        raise ConfigError(f"{named}: no such file {resolved}{_scheme_hint(written)}")


def _scheme_hint(url: str) -> str:
    """For a url that starts like a host: how to write it as a web feed."""
    return f"; a web feed needs its scheme: 'http://{url}'" if _HOST_LIKE.match(url) else ""


def _read_feed_files(base_dir: Path, pattern: str, path: str) -> list[Any]:
    full = pattern if os.path.isabs(pattern) else str(base_dir / pattern)
    files = sorted(glob.glob(full))
    if not files:
        raise ConfigError(f"{path}: feed_files: {pattern!r} matches no file")
    items: list[Any] = []
    for f in files:
        data = _read_yaml(Path(f), "the feed file")
        if isinstance(data, dict):
            data = data.get("feeds", [])
        items += _as_list(data or [], f"{f}: feeds", path)
    return items


def _read_yaml(path: Path, what: str) -> Any:
    """A YAML file's data; every way it can be unreadable is one ConfigError line naming the file."""
    try:
        text = path.read_bytes().decode("utf-8")
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not {what}") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read {what}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: {what} is not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset {e.start}): "
                          f"is it the right file?") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: {what} is not valid YAML: {_yaml_problem(e)}") from None


def _yaml_problem(e: yaml.YAMLError) -> str:
    """PyYAML's several-line message as one line: the problem and where."""
    if isinstance(e, yaml.MarkedYAMLError):
        mark = e.problem_mark or e.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        return f"{e.problem or e.context or 'syntax error'}{where}"
    return " ".join(str(e).split())


def _as_list(value: Any, key: str, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(f"{path}: {key} must be a list")
    return value
