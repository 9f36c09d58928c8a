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
