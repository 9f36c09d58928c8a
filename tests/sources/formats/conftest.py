"""The drop folder of wire files every format test reads (samples/wire, samples/wire-late)."""

from __future__ import annotations

from pathlib import Path

import pytest

from transforms.sources.formats import ReadResult, read_wire

REPO = Path(__file__).resolve().parents[3]
WIRE = REPO / "samples" / "wire"
WIRE_LATE = REPO / "samples" / "wire-late"


def read_sample(name: str) -> ReadResult:
    path = WIRE / name if (WIRE / name).exists() else WIRE_LATE / name
    return read_wire(path.read_bytes(), str(path))


@pytest.fixture
def sample():
    return read_sample
