"""Loading labelled cleaning cases (YAML: input, expected text and fields), shared by the tests and the benchmark."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass
class Case:
    id: str
    source: str
    input: str
    expected: dict[str, Any]
    agency: str | None = None
    domain: str | None = None
    title: str | None = None
    tags: list[str] = field(default_factory=list)


def load_cases(directory: str | Path) -> list[Case]:
    """Every case of every YAML file; a case without input or expected text is an error."""
    cases: list[Case] = []
    for path in sorted(Path(directory).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        source = str(data.get("source") or path.stem)
        for raw in data.get("cases") or []:
            if "input" not in raw or "text" not in (raw.get("expected") or {}):
                raise ValueError(f"{path.name}: case {raw.get('id')!r} needs input and expected.text")
            cases.append(
                Case(
                    id=str(raw["id"]),
                    source=source,
                    input=str(raw["input"]),
                    expected=dict(raw["expected"]),
                    agency=raw.get("agency"),
                    domain=raw.get("domain"),
                    title=raw.get("title"),
                    tags=list(raw.get("tags") or []),
                )
            )
    return cases
