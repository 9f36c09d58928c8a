"""PR-wire text: headline, rejoined paragraphs, SOURCE, media links and contacts as fields."""

from __future__ import annotations


def test_asianet_release(sample):
    item = sample("prwire-asianet.txt").items[0]
    assert item.guid == "prwire:asianet:0104412" and item.service == "PRNewswire-AsiaNet"
    assert item.headline == "Example Robotics Opens Asia-Pacific Headquarters in Singapore"
    assert item.dateline == {"location": "SINGAPORE", "date_text": "March 4, 2026"}
    assert item.rights["holder"] == "Example Robotics Pte Ltd"
    assert "Logo - https://photos.example-prnasia.com" in item.editorial_note
    assert "Mei Ling Tan" in item.editorial_note
    paragraphs = item.body_html.split("</p><p>")
    assert paragraphs[0].startswith("<p>SINGAPORE, March 4, 2026 /PRNewswire-AsiaNet/ -- Example Robotics Pte Ltd, a "
                                    "maker of warehouse automation systems")
    for furniture in ("SOURCE", "Logo -", "Photo -", "press@"):
        assert furniture not in item.body_html


def test_prnewswire_release(sample):
    item = sample("prwire-prnewswire.txt").items[0]
    assert item.rights["holder"] == "Lone Star Solar Cooperative"
    assert item.editorial_note == "CONTACT: Ray Delgado, 512-555-0147, rdelgado@lonestar-coop.example"
    assert item.version_created == "2026-03-04T00:00:00Z"
