"""The search query and its rendering (the live search is covered end to end)."""

import inspect

import pytest
from elasticsearch import Elasticsearch

from pipeline.elasticsearch.search import (
    FilterError,
    build_query,
    format_results,
    head_words,
    parse_filters,
    tail_words,
)


def test_query_searches_title_and_body_with_facets_and_filters():
    q = build_query("Xi Jinping", size=3, filters={"agency": "xinhua", "person": "Vladimir Putin"})
    fields = q["query"]["bool"]["must"][0]["simple_query_string"]["fields"]
    assert "title^3" in fields and "body" in fields
    assert {"term": {"agency": "xinhua"}} in q["query"]["bool"]["filter"]
    assert {"term": {"entities.person": "Vladimir Putin"}} in q["query"]["bool"]["filter"]
    assert set(q["aggs"]) >= {"source", "agency", "person", "org", "location"}
    assert q["size"] == 3
    assert build_query("*")["query"]["bool"]["must"] == [{"match_all": {}}]


def test_results_show_entities_snippets_and_facets():
    resp = {"hits": {"total": {"value": 1}, "hits": [{"_source": {
        "title": "Xi meets Putin", "body": "Chinese President Xi Jinping said ... in various fields.",
        "source": {"name": "xinhua-world"}, "agency": "xinhua", "dateline": {"location": "BEIJING"},
        "entities": {"person": ["Xi Jinping", "Vladimir Putin"], "location": ["China"]}},
        "highlight": {"body": ["President [Xi] [Jinping] said"]}}]},
        "aggregations": {"person": {"buckets": [{"key": "Xi Jinping", "doc_count": 1}]}}}
    text = format_results(resp, "Xi")
    assert "1 article(s)" in text and "person: Xi Jinping, Vladimir Putin" in text
    assert "[Xi] [Jinping]" in text and "dateline=BEIJING" in text and "Xi Jinping (1)" in text


def test_withdrawn_articles_are_left_out_unless_asked_for_and_wire_facets_are_there():
    q = build_query("carbon")
    assert {"bool": {"must_not": [{"term": {"withdrawn": True}}]}} in q["query"]["bool"]["filter"]
    assert set(q["aggs"]) >= {"service", "priority", "subject"}
    assert q["aggs"]["subject"] == {"terms": {"field": "wire.subjects.name", "size": 10}}
    every = build_query("carbon", include_withdrawn=True)
    assert all("must_not" not in str(f) for f in every["query"]["bool"]["filter"])
    q = build_query("carbon", filters={"subject": "soccer"})
    assert {"term": {"wire.subjects.name": "soccer"}} in q["query"]["bool"]["filter"]


def test_a_withdrawn_article_is_marked_and_wire_fields_shown():
    resp = {"hits": {"total": {"value": 1}, "hits": [{"_source": {
        "title": "Storm damages school", "body": "Text.", "withdrawn": True,
        "wire": {"service": "AP National", "priority": 1, "versions": 2, "slugline": "BC-US--Storm"}}}]}}
    text = format_results(resp, "storm")
    assert "Storm damages school [WITHDRAWN]" in text
    assert "service=AP National  priority=1  versions=2  slug=BC-US--Storm" in text
    assert "None" not in text and text.splitlines()[7] == "   -"


def test_a_wire_story_without_an_address_shows_its_guid():
    resp = {"hits": {"total": {"value": 1}, "hits": [{"_source": {
        "title": "Carbon link", "body": "Text.", "url": None, "guid": "urn:newsml:dpa.com:20260304:eca-1"}}]}}
    assert "   guid urn:newsml:dpa.com:20260304:eca-1" in format_results(resp, "carbon").splitlines()


def test_stories_collapse_by_story_id_and_show_the_copies():
    q = build_query("drought", stories=True)
    assert q["collapse"] == {"field": "story.id", "inner_hits": {"name": "copies", "size": 0}}
    assert q["aggs"]["stories"] == {"cardinality": {"field": "story.id"}} and "story" in q["source"]
    assert "collapse" not in build_query("drought")
    hit = {"_source": {"title": "Kenya launches drought relief", "story": {"id": "s1", "first_source": "Xinhua"}},
           "inner_hits": {"copies": {"hits": {"total": {"value": 2}}}}}
    resp = {"hits": {"total": {"value": 5}, "hits": [hit]}, "aggregations": {"stories": {"value": 2}}}
    text = format_results(resp, "drought", {"s1": {"story": {"copies": 4, "first_source": "Xinhua",
                                                             "first_seen_at": "2026-11-27T17:20:00Z"}}})
    assert text.startswith('2 stories (5 article(s)) match "drought"')
    assert "story s1: 4 copies (2 matching), first from Xinhua at 2026-11-27T17:20:00Z" in text


def test_filters_are_facet_equals_value_with_a_known_facet():
    assert parse_filters(["agency=xinhua", "Person=Xi Jinping"]) == {"agency": "xinhua", "person": "Xi Jinping"}
    assert parse_filters(None) == {}
    for bad, needle in (("agency", "write FACET=VALUE"), ("agency=", "write FACET=VALUE"),
                        ("agncy=tass", "no facet 'agncy'; the facets are source, agency, language")):
        with pytest.raises(FilterError, match=needle):
            parse_filters([bad])


def test_the_query_is_keyword_arguments_of_the_clients_search():
    """No ``body=``: every key is a keyword argument of ``search`` in the client (the 8.x client has the same)."""
    accepted = set(inspect.signature(Elasticsearch.search).parameters)
    assert set(build_query("x", filters={"agency": "xinhua"})) <= accepted - {"body"}


def test_excerpts_are_cut_at_word_boundaries():
    body = "The talks resumed on Monday. Both delegations agreed that the harbour accord would be signed in May."
    assert body[-70:].startswith("oth ")  # the plain cut falls inside "Both"
    end = tail_words(body, 70)
    assert len(end) <= 70 and body.endswith(end) and body[len(body) - len(end) - 1] == " "
    assert end == "delegations agreed that the harbour accord would be signed in May."
    start = head_words(body, 30)
    assert start == "The talks resumed on Monday." and body.startswith(start + " ")
    assert tail_words("short", 70) == "short" and len(tail_words("x" * 100, 70)) == 70  # one long word: cut
    resp = {"hits": {"total": {"value": 1}, "hits": [{"_source": {"title": "T", "body": body}}]}}
    assert "ends: …'delegations agreed that the harbour accord would be signed in May.'" in format_results(resp, "x")
