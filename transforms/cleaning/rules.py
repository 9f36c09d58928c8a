"""Rule packs: YAML files in configs/rules/ declaring what boilerplate each agency or site adds.

A pack names the agencies and domains it serves, optional `detect` patterns that
recognise its copy from the text, `dateline` patterns, and `rules`. A rule says
*where* it may act:

- ``end``: a match anchored at the end of the text (the last paragraph), applied
  repeatedly from the bottom up while rules keep firing; an end rule marked
  ``cuts_tail`` is an end marker (``Enditem``, ``==Kyodo``): found at the end of
  an earlier paragraph, it goes together with the few short lines after it;
- ``start``: a match anchored at the start of the text (the first paragraph);
- ``line``: a whole paragraph, anywhere in the text.

Patterns may use the macros declared under `macros:` in any pack (``{DATE}``,
``{DASH}``...), so every agency's dateline reads the same way.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from transforms.resources import config_path

log = logging.getLogger(__name__)

WHERE = ("end", "start", "line")
DEFAULT_RULES_DIR = config_path("rules")
_MACRO_RE = re.compile(r"\{([A-Z][A-Z_]*)\}")
_FLAG_MAP = {"i": re.IGNORECASE, "ignorecase": re.IGNORECASE}


class RuleError(ValueError):
    """A pack that cannot be loaded: bad YAML, unknown key, bad pattern."""


@dataclass
class Rule:
    name: str  # "<pack>.<rule>"
    where: str
    pattern: str
    regex: re.Pattern[str]
    max_share: float | None = None  # None: the pack's, else the cleaner's default
    examples: list[dict[str, Any]] = field(default_factory=list)
    cuts_tail: bool = False  # an end marker: short furniture lines after it go with it


@dataclass
class DatelineRule:
    name: str
    pattern: str
    regex: re.Pattern[str]
    examples: list[dict[str, Any]] = field(default_factory=list)
    selected_only: bool = False  # tried only when the pack was chosen (agency, domain or detection)


@dataclass
class Pack:
    id: str
    agency: str | None  # the agency this pack's copy comes from, if any
    agencies: list[str]  # agency ids / names that select this pack
    domains: list[str]
    detect: list[re.Pattern[str]]
    datelines: list[DatelineRule]
    rules: list[Rule]
    max_share: float | None = None
    generic: bool = False
    path: str = ""

    def serves_domain(self, domain: str) -> bool:
        domain = domain.lower().removeprefix("www.")
        return any(domain == d or domain.endswith("." + d) for d in self.domains)


def rules_dir(path: str | Path | None = None) -> Path:
    """The directory to load: explicit argument, else $WIRENEWS_RULES_DIR, else the packaged configs/rules."""
    if path is not None:
        return Path(path)
    env = os.environ.get("WIRENEWS_RULES_DIR")
    return Path(env) if env else DEFAULT_RULES_DIR


def expand_macros(pattern: str, macros: dict[str, str], where: str = "") -> str:
    """Replace {NAME} with the macro's regex (macros may use other macros)."""
    for _ in range(5):
        new = _MACRO_RE.sub(lambda m: macros.get(m.group(1), m.group(0)), pattern)
        if new == pattern:
            break
        pattern = new
    unknown = [m for m in _MACRO_RE.findall(pattern) if m not in macros]
    if unknown:
        raise RuleError(f"{where}: unknown macro(s) {unknown}")
    return pattern


def _compile(pattern: str, where: str, flags: list[str], name: str) -> re.Pattern[str]:
    bits = 0
    for f in flags:
        if f.lower() not in _FLAG_MAP:
            raise RuleError(f"{name}: unknown flag {f!r}")
        bits |= _FLAG_MAP[f.lower()]
    if where == "end":
        source = rf"(?:{pattern})\s*\Z"
    elif where == "start":
        source = rf"\A\s*(?:{pattern})"
    else:
        source = pattern
    try:
        return re.compile(source, bits)
    except re.error as exc:
        raise RuleError(f"{name}: bad pattern {pattern!r}: {exc}") from exc


_PACK_KEYS = {
    "pack", "agency", "agencies", "domains", "detect", "dateline",
    "rules", "max_share", "macros", "generic", "description",
}
_RULE_KEYS = {"name", "where", "pattern", "flags", "max_share", "examples", "description", "cuts_tail"}


def _parse_pack(data: dict[str, Any], macros: dict[str, str], path: Path) -> Pack:
    unknown = set(data) - _PACK_KEYS
    if unknown:
        raise RuleError(f"{path.name}: unknown key(s) {sorted(unknown)}")
    pack_id = str(data.get("pack") or path.stem)
    rules: list[Rule] = []
    for i, raw in enumerate(data.get("rules") or []):
        if not isinstance(raw, dict) or "name" not in raw or "pattern" not in raw:
            raise RuleError(f"{path.name}: rule #{i} needs a name and a pattern")
        bad = set(raw) - _RULE_KEYS
        if bad:
            raise RuleError(f"{path.name}: rule {raw['name']}: unknown key(s) {sorted(bad)}")
        where = raw.get("where", "line")
        if where not in WHERE:
            raise RuleError(f"{path.name}: rule {raw['name']}: where must be one of {WHERE}")
        name = f"{pack_id}.{raw['name']}"
        pattern = expand_macros(str(raw["pattern"]), macros, name)
        rules.append(
            Rule(
                name=name,
                where=where,
                pattern=pattern,
                regex=_compile(pattern, where, list(raw.get("flags") or []), name),
                max_share=raw.get("max_share"),
                examples=list(raw.get("examples") or []),
                cuts_tail=bool(raw.get("cuts_tail", False)) and where == "end",
            )
        )
    datelines: list[DatelineRule] = []
    for raw in data.get("dateline") or []:
        if isinstance(raw, str):
            raw = {"pattern": raw}
        name = f"{pack_id}.dateline"
        pattern = expand_macros(str(raw["pattern"]), macros, name)
        regex = _compile(pattern + r"\s*", "start", list(raw.get("flags") or []), name)
        if "location" not in regex.groupindex:
            raise RuleError(f"{name}: a dateline pattern needs a (?P<location>...) group")
        examples = list(raw.get("examples") or [])
        datelines.append(
            DatelineRule(name, pattern, regex, examples, selected_only=bool(raw.get("selected_only", False)))
        )
    detect = [re.compile(expand_macros(p, macros, pack_id)) for p in data.get("detect") or []]
    agency = data.get("agency")
    return Pack(
        id=pack_id,
        agency=str(agency).lower() if agency else None,
        agencies=[str(a).lower() for a in data.get("agencies") or ([agency] if agency else [])],
        domains=[str(d).lower() for d in data.get("domains") or []],
        detect=detect,
        datelines=datelines,
        rules=rules,
        max_share=data.get("max_share"),
        generic=bool(data.get("generic", False)),
        path=str(path),
    )


def load_packs(path: str | Path | None = None) -> list[Pack]:
    """Load every *.yaml pack of the directory; macros are shared across packs."""
    directory = rules_dir(path)
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise RuleError(f"no rule packs (*.yaml) in {directory}")
    docs: list[tuple[Path, dict[str, Any]]] = []
    macros: dict[str, str] = {}
    for f in files:
        try:
            data = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise RuleError(f"{f.name}: {exc}") from exc
        if not isinstance(data, dict):
            raise RuleError(f"{f.name}: a pack is a mapping")
        macros.update({str(k): str(v) for k, v in (data.get("macros") or {}).items()})
        docs.append((f, data))
    packs = [_parse_pack(data, macros, f) for f, data in docs]
    ids = [p.id for p in packs]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise RuleError(f"duplicate pack ids: {sorted(dupes)}")
    log.debug("loaded %d rule packs from %s", len(packs), directory)
    return packs
