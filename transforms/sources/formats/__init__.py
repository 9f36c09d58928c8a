"""Agency wire formats: one reader per format, registered by name, chosen from the content.

``read_wire(body, source, format=None)`` returns the stories of one file or HTTP response as ``WireItem``s
(``ReadResult``); ``detect_format(body)`` names the format, or None for anything that is not a wire format
(RSS, Atom, JSON Feed and HTML go to the feed parser). ``FORMATS`` lists the names a feed's ``format:`` key
may force. ``to_article`` turns an item into the Article the other stages take, ``newest_versions`` keeps one
Article per story. The readers are imported here for their registration; no two of them claim the same
document, so the order they register in does not matter.
"""

from transforms.sources.formats import (  # noqa: F401 - imported to register
    anpa,
    ap_json,
    iptc7901,
    newsml1,
    newsml_g2,
    ninjs,
    nitf,
    prwire,
)
from transforms.sources.formats.articles import newest_versions, to_article
from transforms.sources.formats.base import ReadResult, WireError, WireItem
from transforms.sources.formats.registry import READERS, detect, read

FORMATS = tuple(READERS)
read_wire = read
detect_format = detect

__all__ = ["FORMATS", "ReadResult", "WireError", "WireItem", "detect_format", "newest_versions", "read_wire",
           "to_article"]
