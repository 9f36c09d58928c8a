"""Detection from the content: every wire sample by its format, no feed as a wire format."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sources.formats.conftest import REPO, WIRE, WIRE_LATE
from transforms.sources.formats import FORMATS, detect_format, read_wire

EXPECTED = {
    "g2-": "newsml-g2", "newsml-": "newsml1", "nitf-": "nitf", "ninjs-": "ninjs", "apjson-": "ap-json",
    "anpa-": "anpa1312", "iptc7901-": "iptc7901", "prwire-": "prwire",
}
CORPORA = REPO.parent / "shared" / "corpora"


def _samples() -> list[Path]:
    return sorted(p for d in (WIRE, WIRE_LATE) for p in d.iterdir() if p.is_file())


def test_every_format_is_registered():
    assert set(FORMATS) == set(EXPECTED.values())


@pytest.mark.parametrize("path", _samples(), ids=lambda p: p.name)
def test_each_sample_is_detected_as_its_format(path: Path):
    prefix = next(p for p in EXPECTED if path.name.startswith(p))
    assert detect_format(path.read_bytes()) == EXPECTED[prefix]


def test_feeds_are_not_wire_formats():
    feeds = sorted((REPO / "samples" / "feeds").iterdir())
    assert feeds
    assert [p.name for p in feeds if detect_format(p.read_bytes())] == []


def test_corpora_feeds_are_left_to_the_feed_parser():
    if not CORPORA.is_dir():
        pytest.skip("../shared/corpora is not here (it is not shipped with the project)")
    detected = {p.name: detect_format(p.read_bytes())
                for sub in ("feeds", "feedparser-tests") for p in (CORPORA / sub).rglob("*") if p.is_file()}
    assert len(detected) > 2000
    # The AP Media API answer is AP's JSON; nothing else there is a wire format.
    assert {n: f for n, f in detected.items() if f} == {"ap_media_api_feed.json": "ap-json"}


@pytest.mark.parametrize("body", [b"", b"   \n", b"plain words, no wire here\n", b"<html><body>x</body></html>",
                                  b'{"version": "https://jsonfeed.org/version/1.1", "items": []}', b"[1, 2]"])
def test_anything_else_is_not_a_wire_format(body: bytes):
    assert detect_format(body) is None
    result = read_wire(body, "x")
    assert result.error_kind == "not_wire" and not result.items


def test_a_forced_format_reads_what_detection_would_not(tmp_path):
    body = (WIRE / "nitf-aap.xml").read_bytes()
    assert read_wire(body, "x", format="nitf").items
    wrong = read_wire(body, "x", format="ninjs")
    assert wrong.error_kind == "json" and not wrong.items
    with pytest.raises(ValueError, match="unknown wire format 'rss'"):
        read_wire(body, "x", format="rss")
