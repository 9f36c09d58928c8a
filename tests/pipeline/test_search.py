"""The search query and its rendering (the live search is covered end to end)."""

from pipeline.elasticsearch.search import build_query, format_results


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


def test_stories_collapse_by_story_id_and_show_the_copies():
    q = build_query("drought", stories=True)
    assert q["collapse"] == {"field": "story.id", "inner_hits": {"name": "copies", "size": 0}}
    assert q["aggs"]["stories"] == {"cardinality": {"field": "story.id"}} and "story" in q["_source"]
    assert "collapse" not in build_query("drought")
    hit = {"_source": {"title": "Kenya launches drought relief", "story": {"id": "s1", "first_source": "Xinhua"}},
           "inner_hits": {"copies": {"hits": {"total": {"value": 2}}}}}
    resp = {"hits": {"total": {"value": 5}, "hits": [hit]}, "aggregations": {"stories": {"value": 2}}}
    text = format_results(resp, "drought", {"s1": {"story": {"copies": 4, "first_source": "Xinhua",
                                                             "first_seen_at": "2026-11-27T17:20:00Z"}}})
    assert text.startswith('2 stories (5 article(s)) match "drought"')
    assert "story s1: 4 copies (2 matching), first from Xinhua at 2026-11-27T17:20:00Z" in text
