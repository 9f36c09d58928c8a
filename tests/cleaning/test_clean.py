"""The cleaning stage: rule packs, their examples, safety, audit, the Article wrapper."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SEED
from transforms.article import Article
from transforms.cleaning.cleaner import Cleaner, clean_article, content_hash
from transforms.cleaning.rules import RuleError, load_packs
from transforms.cleaning.transform import CleanArticles

# The seed lives in the shared folder beside the repository, not in it.


@pytest.fixture(scope="module")
def cleaner() -> Cleaner:
    return Cleaner.from_dir()


def _examples():
    for pack in load_packs():
        for rule in pack.rules:
            for i, ex in enumerate(rule.examples):
                yield pytest.param(rule.name, ex, id=f"{rule.name}#{i}")
        for drule in pack.datelines:
            for i, ex in enumerate(drule.examples):
                yield pytest.param(drule.name, ex, id=f"{drule.name}#{i}")


@pytest.mark.parametrize("rule_name,example", list(_examples()))
def test_rule_example(cleaner: Cleaner, rule_name: str, example: dict) -> None:
    result = cleaner.run_rule(rule_name, example["in"])
    assert result.text == example["out"]
    if "dateline" in example:
        assert result.dateline == example["dateline"]
    if example["in"].strip() != example["out"].strip():
        assert result.removed and all(r.rule == rule_name for r in result.removed)


def test_every_rule_and_dateline_has_an_example() -> None:
    missing = [r.name for p in load_packs() for r in p.rules if not r.examples]
    missing += [d.pattern for p in load_packs() for d in p.datelines if not d.examples]
    assert not missing


@pytest.mark.skipif(not SEED.exists(), reason=f"seed article not found at {SEED}")
@pytest.mark.parametrize("kwargs", [{}, {"domain": "www.china.org.cn"}, {"agency": "xinhua"}])
def test_seed_cleans_to_its_reporting(cleaner: Cleaner, kwargs: dict) -> None:
    raw = SEED.read_text(encoding="utf-8")
    result = cleaner.clean(raw, **kwargs)
    assert result.text.endswith("the signing of a number of agreements for cooperation in various fields.")
    assert result.text.startswith("Chinese President Xi Jinping said Thursday")
    assert "Endi" not in result.text and "Forum" not in result.text
    assert result.text.count("\n\n") == 13  # one paragraph per line of the seed
    assert {r.text for r in result.removed} == {"Endi", "Go to Forum >>0 Comment(s)"}
    assert result.agency == "xinhua"


def test_html_paragraphs_entities_and_mojibake(cleaner: Cleaner) -> None:
    raw = (
        "<div><p>BEIJING, Sept. 3 (Xinhua) -- Caf\u00c3\u00a9 owners &amp; growers met.</p>"
        "<p>They\u2019ll meet\u00a0again\x01 on <b>Friday</b>.</p><p>Enditem</p>"
        "<p>Print | E-mail</p><script>var x = 1;</script></div>"
    )
    result = cleaner.clean(raw)
    assert result.text == "Caf\u00e9 owners & growers met.\n\nThey\u2019ll meet again on Friday."
    assert result.dateline == {"location": "BEIJING", "date_text": "Sept. 3"}
    assert result.agency == "xinhua"


def test_share_limit_refuses_and_reports(tmp_path: Path) -> None:
    (tmp_path / "greedy.yaml").write_text(
        "pack: greedy\ngeneric: true\nrules:\n"
        "  - name: tail\n    where: end\n    pattern: 'Later.*'\n"
        "    examples: [{in: 'a. Later b', out: 'a.'}]\n",
        encoding="utf-8",
    )
    cleaner = Cleaner.from_dir(tmp_path)
    story = "Short. Later the whole story goes on and on for a long while, " + "and on " * 20 + "until it ends."
    result = cleaner.clean(story)
    assert result.text.startswith("Short. Later")
    assert [r.rule for r in result.refused] == ["greedy.tail"]
    assert result.removed == []


def test_end_rule_never_cuts_mid_sentence(cleaner: Cleaner) -> None:
    result = cleaner.clean("Officials met the envoy Enditem", agency="xinhua")
    assert result.text == "Officials met the envoy Enditem"
    assert [r.rule for r in result.refused] == ["xinhua.enditem"]


def test_bad_pack_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("pack: bad\nrules:\n  - name: x\n    where: middle\n    pattern: a\n")
    with pytest.raises(RuleError, match="where"):
        load_packs(tmp_path)


def test_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "only.yaml").write_text("pack: only\ngeneric: true\nrules: []\n")
    monkeypatch.setenv("WIRENEWS_RULES_DIR", str(tmp_path))
    assert [p.id for p in Cleaner.from_dir().packs] == ["only"]


def _article(**kw) -> Article:
    base = dict(id="1", guid="g", url="u", canonical_url="u", title="Xi meets Putin")
    base.update(kw)
    return Article(**base)


def test_clean_article_fills_fields(cleaner: Cleaner) -> None:
    art = _article(
        content_html="<p>By Jane Doe</p><p>BEIJING, Sept. 3 (Xinhua) -- Leaders met.</p><p>Enditem</p>",
        source_domain="www.xinhuanet.com",
    )
    out = clean_article(art, cleaner)
    assert out.text == "Leaders met."
    assert out.dateline == {"location": "BEIJING", "date_text": "Sept. 3"}
    assert out.agency == "xinhua"
    assert out.authors == ["Jane Doe"]
    assert out.cleaning["removed_chars"] == len("By Jane Doe") + len("BEIJING, Sept. 3 (Xinhua) --") + len("Enditem")
    assert set(out.cleaning["rules"]) == {"generic.byline", "xinhua.dateline", "xinhua.enditem"}
    assert out.content_hash == content_hash("Xi meets Putin", "Leaders met.")
    assert art.text == ""  # the input is not mutated


def test_clean_article_keeps_given_agency_and_authors(cleaner: Cleaner) -> None:
    art = _article(summary_html="<p>By Jane Doe</p><p>Leaders met.</p>", agency="reuters", authors=["Staff"])
    out = clean_article(art, cleaner)
    assert out.agency == "reuters" and out.authors == ["Staff"] and out.text == "Leaders met."


def test_dofn_is_thin(cleaner: Cleaner) -> None:
    fn = CleanArticles()
    fn.setup()
    (out,) = list(fn.process(_article(content_html="<p>Leaders met. Enditem</p>")))
    assert out.text == "Leaders met."


def test_clean_article_drops_repeated_headline(cleaner: Cleaner) -> None:
    art = _article(title="Xi meets Putin", summary_html="<p>Xi meets Putin</p><p>Leaders met in Beijing.</p>")
    out = clean_article(art, cleaner)
    assert out.text == "Leaders met in Beijing."
    assert out.cleaning["rules"] == ["headline"]
    # A body that merely starts with the headline's words keeps them.
    art = _article(title="Xi meets Putin", summary_html="<p>Xi meets Putin in Beijing.</p>")
    assert clean_article(art, cleaner).text == "Xi meets Putin in Beijing."


def test_dofn_in_a_pipeline() -> None:
    import apache_beam as beam
    from apache_beam.testing.test_pipeline import TestPipeline
    from apache_beam.testing.util import assert_that, equal_to

    articles = [
        _article(id="1", content_html="<p>SEOUL, Jan. 5 (Yonhap) -- Exports rose.</p><p>(END)</p>"),
        _article(id="2", summary_html="<p>Markets fell. Enditem</p>", agency="xinhua"),
    ]
    with TestPipeline() as p:
        out = (
            p
            | beam.Create(articles)
            | beam.ParDo(CleanArticles())
            | beam.Map(lambda a: (a.id, a.text, a.agency, a.cleaning["rules"]))
        )
        assert_that(
            out,
            equal_to([
                ("1", "Exports rose.", "yonhap", ["yonhap.dateline", "yonhap.end-mark"]),
                ("2", "Markets fell.", "xinhua", ["xinhua.enditem"]),
            ]),
        )


def test_nitf_headline_said_twice_goes_without_a_title(cleaner: Cleaner) -> None:
    raw = "Floods close roads\n  Floods close roads\n\nThe Associated Press\n\nDENVER\n\nFloods closed roads on Monday."
    result = cleaner.clean(raw)
    assert result.text == "Floods closed roads on Monday."
    assert result.dateline == {"location": "DENVER", "date_text": None} and result.agency == "ap"
    assert cleaner.clean("Yes yes. Yes yes.\n\nMore text follows here.").text.startswith("Yes yes. Yes yes.")
