"""A fetched body to Articles: the reader of its agency wire format when it is one, else the feed parser.

The format is recognised from the content (``formats.detect_format``), unless the feed's ``format:`` forces
one ("feed" forces the feed parser). A wire document that cannot be read is a named error of the file or
response (``wire_xml``, ``wire_charset``, ``wire_empty``, ``wire_package_without_items``...); what a reader
counted instead of reading (packages, pictures, items whose text is only a rendition) becomes counters.
"""

from __future__ import annotations

from datetime import datetime

from transforms.article import FeedSpec
from transforms.sources.feeds import ParseResult, parse_feed
from transforms.sources.formats import detect_format, read_wire, to_article

FEED = "feed"


def parse_body(body: bytes, headers: dict[str, str], feed: FeedSpec, fetched_url: str, now: datetime) -> ParseResult:
    """Every story of ``body`` as an Article; never raises for bad input."""
    fmt = feed.format or detect_format(body)
    if fmt in (None, FEED):
        return parse_feed(body, headers, feed, fetched_url, now)
    read = read_wire(body, fetched_url, fmt)
    if read.error_kind:
        return ParseResult(error_kind=f"wire_{read.error_kind}", error=f"{fmt}: {read.error}", version=fmt)
    result = ParseResult(articles=[to_article(item, feed, fetched_url, now) for item in read.items], version=fmt)
    result.counts[f"wire_items_{fmt}"] += len(read.items)
    if read.packages:
        result.counts["wire_packages"] += read.packages
    for reason, n in read.skipped.items():
        result.counts[f"wire_skipped_{reason}"] += n
    return result
