"""The helpers the readers share."""

from __future__ import annotations

import pytest

from transforms.sources.formats.base import WireItem, agency_id, iso_utc, split_names, unwrap
from transforms.sources.formats.datelines import parse_dateline
from transforms.sources.formats.subjects import subject


@pytest.mark.parametrize("raw, iso", [
    ("2026-03-04T03:10:55Z", "2026-03-04T03:10:55Z"),
    ("2026-03-04T09:05:00+01:00", "2026-03-04T08:05:00Z"),
    ("20260304T113205+0200", "2026-03-04T09:32:05Z"),
    ("20260304T141500Z", "2026-03-04T14:15:00Z"),
    ("20260304", "2026-03-04T00:00:00Z"),
    ("4/4/2018 17:59:03", None),
    ("", None),
])
def test_iso_utc(raw, iso):
    assert iso_utc(raw) == iso


def test_unwrap_joins_wrapped_lines_and_keeps_short_ones():
    lines = ["London (dpa) - Britain and the European Union agreed on Wednesday to",
             "link their carbon markets, ending a dispute.", "Tel: +49 30 1234", "Email: x@example.com"]
    assert unwrap(lines) == ["London (dpa) - Britain and the European Union agreed on Wednesday to link their "
                             "carbon markets, ending a dispute.", "Tel: +49 30 1234", "Email: x@example.com"]


@pytest.mark.parametrize("byline, names", [
    ("By JANE DOE and Li Wei", ["Jane Doe", "Li Wei"]),
    ("By Jonas Reiter, dpa", ["Jonas Reiter"]),
    ("By Alan Hewitt, PA Transport Correspondent", ["Alan Hewitt"]),
    ("Von Anna Berg und Tom Roth", ["Anna Berg", "Tom Roth"]),
])
def test_split_names(byline, names):
    assert split_names(byline) == names


@pytest.mark.parametrize("names, agency", [
    (("The Associated Press",), "ap"), (("nprov:AFP",), "afp"), (("example-amna.gr",), "ana-mpa"),
    (("reuters.com",), "reuters"), ((None, "Keystone-SDA"), "ats-sda"), (("Example Daily",), None),
])
def test_agency_id(names, agency):
    assert agency_id(*names) == agency


@pytest.mark.parametrize("raw, dateline", [
    ("TOKYO, March 4 (Reuters)", {"location": "TOKYO", "date_text": "March 4"}),
    ("ATHENS, March 4, 2026", {"location": "ATHENS", "date_text": "March 4, 2026"}),
    ("CRESTLINE, Ohio", {"location": "CRESTLINE, Ohio", "date_text": None}),
    ("2018-01-03 20:13:08 GMT+00:00", None),
])
def test_parse_dateline(raw, dateline):
    assert parse_dateline(raw) == dateline


@pytest.mark.parametrize("args, shape", [
    (("subj:04000000",), {"code": "04000000", "name": "economy, business and finance", "scheme": "subj"}),
    (("http://cv.iptc.org/newscodes/subjectcode/15054000",), {"code": "15054000", "name": "soccer", "scheme": "subj"}),
    (("04008004", None, "IptcSubjectCodes"), {"code": "04008004", "name": "economic indicator", "scheme": "subj"}),
    (("04999999",), {"code": "04999999", "name": None, "scheme": "subj"}),
    (("medtop:20000538", "leisure"), {"code": "20000538", "name": "leisure", "scheme": "medtop"}),
    (("N2:SOC", "Soccer"), {"code": "SOC", "name": "Soccer", "scheme": "N2"}),
])
def test_subject_codes_in_one_shape(args, shape):
    assert subject(*args) == shape


def test_version_keys_order_numbers_then_times():
    def key(version, created, ordered_by="version"):
        return WireItem("f", "g", version=version, version_created=created, ordered_by=ordered_by).version_key

    assert key(2, "2026-03-04T01:00:00Z") > key(1, "2026-03-04T09:00:00Z") > key(1, "2026-03-04T08:00:00Z")
    assert key(None, "2026-03-04T09:00:00Z", "time") > key(5, "2026-03-04T08:59:59Z", "time")
    assert key(2, "2026-03-04T09:00:00Z", "time") > key(1, "2026-03-04T09:00:00Z", "time")
