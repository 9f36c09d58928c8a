"""Fetched bodies to Articles: wire formats from HTTP and from folders, detected or forced, bad files named."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.conftest import REPO
from tests.loopback import LoopbackServer
from transforms.article import FeedSpec
from transforms.sources.http_client import HttpClient
from transforms.sources.politeness import HostGate
from transforms.sources.poll import process_feed

NOW = datetime(2026, 3, 5, 12, 0, tzinfo=timezone.utc)
WIRE = REPO / "samples" / "wire"


@pytest.fixture(scope="module")
def wire_server():
    with LoopbackServer(WIRE) as srv:
        yield srv


@pytest.fixture
def http():
    client = HttpClient(gate=HostGate(min_gap=0.0), timeout=10.0)
    yield client
    client.close()


def test_an_agency_endpoint_answering_nitf_is_read_as_nitf(wire_server, http):
    out = process_feed(FeedSpec(name="aap", url=wire_server.url("nitf-aap.xml")), None, http, NOW)
    assert out.status == "fetched" and out.counts["wire_items_nitf"] == 1
    [art] = out.articles
    assert art.guid == "aap:AAP.20260304.0412" and art.wire["priority"] == 3 and art.agency == "aap"
    assert art.source_domain == "127.0.0.1" and art.feed_name == "aap"


def test_an_http_response_holding_a_message_of_several_items(wire_server, http):
    out = process_feed(FeedSpec(name="rtrs", url=wire_server.url("g2-reuters-message.xml")), None, http, NOW)
    assert len(out.articles) == 3 and out.counts["wire_packages"] == 1


def test_a_bad_wire_response_is_a_named_failure(wire_server, http):
    out = process_feed(FeedSpec(name="bad", url=wire_server.url("nitf-truncated.xml")), None, http, NOW)
    assert out.status == "failed" and out.errors[0][1] == "wire_xml" and "Premature end" in out.errors[0][2]
    assert out.counts["feed_errors_wire_xml"] == 1


def test_format_forces_the_reader(wire_server, http):
    forced = process_feed(FeedSpec(name="x", url=wire_server.url("g2-afp-sport.xml"), format="feed"), None, http, NOW)
    assert forced.status == "failed" and forced.errors[0][1] == "not_a_feed"
    rss = REPO / "samples" / "feeds" / "ap-world.xml"
    wrong = process_feed(FeedSpec(name="y", url=str(rss), format="nitf"), None, None, NOW)
    assert wrong.errors[0][1] == "wire_structure" and "is not a NITF document" in wrong.errors[0][2]


def test_a_folder_goes_in_file_by_file_and_keeps_the_newest_versions():
    out = process_feed(FeedSpec(name="drop", url=str(WIRE / "*.*")), None, None, NOW)
    assert out.status == "fetched"
    assert sorted(kind for _, kind, _ in out.errors) == [
        "wire_charset", "wire_empty", "wire_package_without_items", "wire_xml"]
    ids = [a.id for a in out.articles]
    assert len(ids) == len(set(ids)) == 35
    assert out.counts["wire_versions_superseded"] == 6  # Reuters v1, ANSA rev 1, two ANPA, dpa, STT
    ethanol = next(a for a in out.articles if a.guid == "anpa:ap:2026-03-04:us--ethanol-grassland")
    assert ethanol.wire["take"] == "1st Ld-Writethru" and len(ethanol.wire["version_keys"]) == 2
