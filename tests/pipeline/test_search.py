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
