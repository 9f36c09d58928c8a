"""IPTC 7901 (dpa, Keystone-SDA): heading codes, keyword line, labels, notebook and contacts out of the body."""

from __future__ import annotations

from transforms.sources.formats import read_wire


def test_heading_keywords_labels_and_headline(sample):
    item = sample("iptc7901-dpa-uk-eu-1stlead.txt").items[0]
    assert item.headline == "Britain and EU agree to link carbon markets, ending levy dispute"
    assert item.slugline == "/politics/Britain/EU/" and item.keywords == ["politics", "Britain", "EU"]
    assert item.take == "1ST LEAD" and item.version == 1
    assert item.urgency == 3 and item.category == "i" and item.service == "eca" and item.agency == "dpa"
    assert item.version_created == "2026-03-04T14:02:00Z"
    assert item.byline == ["Jane Whitmore"]


def test_the_notebook_and_contacts_are_notes_not_text(sample):
    item = sample("iptc7901-dpa-uk-eu-1stlead.txt").items[0]
    for furniture in ("# Notebook", "* * * *", "not for publication", "Tel:", "dpa al rmo", "041402 GMT"):
        assert furniture not in item.body_html
    assert "Tel: +49 30 2852 31472" in item.editorial_note
    assert item.body_html.startswith("<p>London (dpa) - Britain and the European Union agreed on Wednesday to "
                                     "link their carbon markets")
    assert item.body_html.endswith("before it can take effect.</p>")


def test_versions_corrections_and_kills(sample):
    extra = sample("iptc7901-dpa-uk-eu.txt").items[0]
    lead = sample("iptc7901-dpa-uk-eu-1stlead.txt").items[0]
    correction = sample("iptc7901-dpa-uk-eu-correction.txt").items[0]
    assert extra.guid == lead.guid == correction.guid
    assert extra.version_key < lead.version_key < correction.version_key
    assert correction.editorial_note.startswith("Corrects savings figure in paragraph 4")
    story = sample("iptc7901-dpa-satellite.txt").items[0]
    kill = sample("iptc7901-dpa-satellite-kill.txt").items[0]
    assert kill.guid == story.guid and kill.status == "canceled" and kill.urgency == 1


def test_sda_and_german_time_stamps(sample):
    item = sample("iptc7901-sda.txt").items[0]
    assert item.agency == "ats-sda" and item.version_created == "2026-03-04T15:23:00Z"
    assert item.body_html.endswith("<p>(SDA/sj)</p>")


def test_a_file_without_control_characters_reads_alike():
    text = ("eca0124 3 i 40  dpa 1888\n\nYemen/conflict/\nEXTRA\nPeace talks to take place in March =\n\n"
            "Washington (dpa) - Talks will take place in\nSweden next month, officials said.\n\n"
            "dpa grj rmo\n\n212101 GMT Feb 26\n")
    item = read_wire(text.encode(), "x.txt").items[0]
    assert item.format == "iptc7901" and item.headline == "Peace talks to take place in March"
    assert item.body_html == ("<p>Washington (dpa) - Talks will take place in Sweden next month, "
                              "officials said.</p>")
    assert item.version_created == "2026-02-21T21:01:00Z"
