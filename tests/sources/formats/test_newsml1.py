"""NewsML 1.x: several NewsItems per document, several stories per NewsItem, revisions, inherited metadata."""

from __future__ import annotations

from transforms.sources.formats import read_wire


def test_each_news_item_is_a_story(sample):
    result = sample("newsml-ana-mpa.xml")
    tourism, parliament = result.items
    assert tourism.guid == "urn:newsml:example-amna.gr:20260304:2231847"
    assert tourism.headline == "Tourism receipts up 9.2 pct in 2025, Bank of Greece says"
    assert tourism.summary == "Arrivals from the United States and Poland grew fastest"
    assert tourism.dateline == {"location": "ATHENS", "date_text": "March 4"}
    assert tourism.slugline == "ECONOMY-TOURISM" and tourism.keywords == ["tourism", "Bank of Greece"]
    assert tourism.agency == "ana-mpa" and tourism.service == "English Service"
    assert tourism.urgency == 4 and tourism.language == "en"
    assert tourism.version_created == "2026-03-04T09:29:00Z"
    assert [(s["code"], s["name"]) for s in tourism.subjects] == [
        ("04000000", "economy, business and finance"), ("04008004", "economic indicator")]
    assert tourism.rights == {"holder": None, "notice": "\u00a9 2026 Athens-Macedonian News Agency",
                              "usage": "For use by subscribers of the ANA-MPA English Service only."}
    assert parliament.byline == ["Nikos Papadakis"] and parliament.urgency == 3
    assert parliament.body_html.startswith("<p>Greek lawmakers approved")  # CDATA HTML kept as HTML


def test_components_with_their_own_headlines_are_separate_stories(sample):
    result = sample("newsml-afp-briefs.xml")
    assert [i.headline.split(":")[0] for i in result.items] == ["Kenya", "Senegal", "Ghana"]
    assert [i.guid.rsplit("#", 1)[-1] for i in result.items] == ["brief-kenya", "brief-senegal", "brief-ghana"]
    assert result.skipped["non_text"] == 1  # the photo component
    kenya = result.items[0]
    assert kenya.dateline == {"location": "Nairobi", "date_text": None}
    assert kenya.rights["holder"] == "AFP" and kenya.agency == "afp"  # inherited from the bundle
    assert [s["name"] for s in kenya.subjects] == ["central bank"]
    assert "Senegal" not in kenya.body_html


def test_a_revision_updates_the_same_story(sample):
    rev1 = sample("newsml-ansa-rev1.xml").items[0]
    rev2, other = sample("newsml-ansa-rev2.xml").items
    assert rev1.guid == rev2.guid != other.guid
    assert (rev1.version, rev2.version) == (1, 2) and rev2.take == "Update"
    assert rev2.version_key > rev1.version_key
    assert rev1.body_html.startswith("<p>(ANSA) - Rome, March 4 - The long-delayed extension")


def test_status_and_packages():
    doc = b"""<NewsML><NewsItem><Identification><NewsIdentifier><ProviderId>p.example</ProviderId>
      <DateId>20260304</DateId><NewsItemId>1</NewsItemId><RevisionId>3</RevisionId></NewsIdentifier></Identification>
      <NewsManagement><Status FormalName="Canceled"/></NewsManagement>
      <NewsComponent><NewsLines><HeadLine>Withdrawn story</HeadLine></NewsLines>
      <ContentItem><MediaType FormalName="Text"/><DataContent>Do not use.</DataContent></ContentItem></NewsComponent>
    </NewsItem><NewsItem><Identification><NewsIdentifier><ProviderId>p.example</ProviderId><DateId>20260304</DateId>
      <NewsItemId>2</NewsItemId><RevisionId>1</RevisionId></NewsIdentifier></Identification>
      <NewsComponent><NewsItemRef NewsItem="urn:newsml:p.example:20260304:1"/></NewsComponent></NewsItem></NewsML>"""
    result = read_wire(doc, "x.xml")
    assert len(result.items) == 1 and result.packages == 1
    assert result.items[0].status == "canceled" and result.items[0].version == 3


def test_a_document_without_news_items_is_a_named_error():
    assert read_wire(b"<NewsML><NewsEnvelope/></NewsML>", "x.xml").error_kind == "empty"
