"""The YAML config: read, validated and turned into plain settings before anything runs.

Errors name the key and the problem, so an operator can fix the file without
reading code. Credentials never come from the file, only from the environment.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from transforms.article import FeedSpec
from transforms.elastic import DEFAULT_INDEX, EsSettings


class ConfigError(ValueError):
    """A config the pipeline refuses to run with; the message names the key."""


@dataclass
class FetchSettings:
    """How feeds are fetched; the defaults are polite to real publishers."""

    min_gap: float = 0.5  # seconds between two requests to one host (one request at a time per host as well)
    timeout: float = 30.0  # seconds for a whole response
    max_bytes: int = 10_000_000  # a feed or page larger than this (decompressed) is refused
    concurrency: int = 8  # feeds polled at once per worker process (one request at a time per host still)


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
_FETCH_KEYS = {"min_gap": (int, float), "timeout": (int, float), "max_bytes": int, "concurrency": int}
_ES_KEYS = {"hosts", "index", "verify_certs", "request_timeout", "bulk_max_docs", "bulk_max_bytes", "max_retries"}
_FEED_KEYS = {"name", "url", "agency", "full_text", "poll_interval"}


def load_config(path: str | os.PathLike[str], env: dict[str, str] | None = None) -> Config:
    env = dict(os.environ) if env is None else env
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the config: {e.strerror or e}") from e
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the config must be a mapping with 'elasticsearch' and 'feeds'")
    return parse_config(raw, base_dir=p.parent, env=env, path=str(path))


def parse_config(raw: dict[str, Any], base_dir: Path, env: dict[str, str], path: str = "<config>") -> Config:
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
        spec = _parse_feed(item, f"feeds[{i}]", base_dir, path)
        if spec.name in seen:
            raise ConfigError(f"{path}: feeds[{i}].name {spec.name!r} is used twice; names must be unique")
        seen.add(spec.name)
        feeds.append(spec)
    return Config(es=es, feeds=feeds, fetch=_parse_fetch(raw.get("fetch") or {}, path),
                  stories=_parse_stories(raw.get("stories") or {}, path), path=path, raw=raw)


def _parse_fetch(raw: Any, path: str) -> FetchSettings:
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: 'fetch' must be a mapping")
    unknown = set(raw) - set(_FETCH_KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) fetch.{sorted(unknown)}; known: {sorted(_FETCH_KEYS)}")
    s = FetchSettings()
    for key, typ in _FETCH_KEYS.items():
        if key in raw:
            val = raw[key]
            if not isinstance(val, typ) or isinstance(val, bool) or val < 0 or (key != "min_gap" and val == 0):
                raise ConfigError(f"{path}: fetch.{key} must be a positive number, got {val!r}")
            setattr(s, key, val)
    return s


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


def _parse_feed(item: Any, where: str, base_dir: Path, path: str) -> FeedSpec:
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
    else:
        raise ConfigError(f"{path}: {where}.url {url!r}: only http(s) URLs and file paths or globs are read")
    agency = item.get("agency")
    if agency is not None and (not isinstance(agency, str) or not agency.strip()):
        raise ConfigError(f"{path}: {where}.agency must be a non-empty string")
    full_text = item.get("full_text", False)
    if not isinstance(full_text, bool):
        raise ConfigError(f"{path}: {where}.full_text must be true or false")
    poll = item.get("poll_interval", 300)
    if not isinstance(poll, int) or isinstance(poll, bool) or poll < 1:
        raise ConfigError(f"{path}: {where}.poll_interval must be a whole number of seconds >= 1, got {poll!r}")
    return FeedSpec(name=name.strip(), url=url.strip(), agency=agency.strip().lower() if agency else None,
                    full_text=full_text, poll_interval=poll)


def _read_feed_files(base_dir: Path, pattern: str, path: str) -> list[Any]:
    full = pattern if os.path.isabs(pattern) else str(base_dir / pattern)
    files = sorted(glob.glob(full))
    if not files:
        raise ConfigError(f"{path}: feed_files: {pattern!r} matches no file")
    items: list[Any] = []
    for f in files:
        try:
            data = yaml.safe_load(Path(f).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(f"{f}: cannot read feed file: {e}") from e
        if isinstance(data, dict):
            data = data.get("feeds", [])
        items += _as_list(data or [], f"{f}: feeds", path)
    return items


def _as_list(value: Any, key: str, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(f"{path}: {key} must be a list")
    return value
