"""Gazetteers: loading configs/gazetteers, conflicts refused, and the scan for names the model missed."""

from __future__ import annotations

import pytest

from transforms.entities.aliases import AliasTable
from transforms.entities.gazetteer import Gazetteers, TokenSpans, gazetteer_mentions
from transforms.entities.model import load_nlp


@pytest.fixture(scope="module")
def gazetteers() -> Gazetteers:
    return Gazetteers.load()


@pytest.fixture(scope="module")
def nlp():
    return load_nlp()


def test_the_shipped_gazetteers_load(gazetteers):
    assert gazetteers.always.lookup("Newmont").type == "ORG"
    assert gazetteers.always.lookup("AFP") is None  # the alias table's name: the alias table keeps it
    assert gazetteers.always.lookup("dpa").name == "Deutsche Presse-Agentur"
    assert gazetteers.always.lookup("Champions League").type == "EVENT"
    assert gazetteers.always.lookup("Kazakh").type == "NORP"
    assert gazetteers.sports.lookup("Surrey").type == "ORG"
    assert gazetteers.always.lookup("Surrey") is None  # a county everywhere but in sports copy
    assert gazetteers.nations.lookup("Japan").name == "Japan" and gazetteers.nations.lookup("Boston") is None


def test_the_alias_table_outranks_a_gazetteer():
    aliases = AliasTable.from_dict({"GPE": {"Monaco": []}})
    merged = aliases.over(AliasTable.from_dict({"ORG": {"Monaco": ["AS Monaco"]}}))
    assert merged.lookup("Monaco").type == "GPE" and merged.lookup("AS Monaco").type == "ORG"
    assert merged.spelling("MONACO") == "Monaco"


def test_conflicts_and_bad_contexts_are_refused(tmp_path):
    (tmp_path / "a.yaml").write_text("ORG:\n  Kent: []\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("GPE:\n  Kent: []\n", encoding="utf-8")
    with pytest.raises(ValueError, match="Kent"):
        Gazetteers.load(tmp_path)
    (tmp_path / "b.yaml").write_text("context: weekdays\nGPE:\n  Kent: []\n", encoding="utf-8")
    with pytest.raises(ValueError, match="context must be one of"):
        Gazetteers.load(tmp_path)


def test_one_name_in_two_files_of_one_type_merges_its_variants(tmp_path):
    (tmp_path / "a.yaml").write_text("ORG:\n  Barrick Gold: [Barrick]\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("ORG:\n  Barrick Gold: [Barrick Mining]\n", encoding="utf-8")
    table = Gazetteers.load(tmp_path).always
    assert table.lookup("Barrick").name == table.lookup("Barrick Mining").name == "Barrick Gold"


def scan(nlp, text: str, table: AliasTable, taken: list[tuple[int, int]]):
    found, replaced = gazetteer_mentions(TokenSpans(nlp.make_doc(text), text), text, False, table, taken)
    return [(m.text, m.type, text[m.offset : m.end]) for m in found], replaced


def test_the_scan_finds_the_longest_capitalised_name(nlp):
    table = AliasTable.from_dict({"ORG": {"Barrick Gold": ["Barrick"], "Agnico Eagle": []}, "NORP": {"Kazakh": []}})
    text = "Barrick Gold rose, barrick fell, and The Agnico Eagle board met in the Kazakh capital."
    found, _ = scan(nlp, text, table, [])
    assert found == [("Barrick Gold", "ORG", "Barrick Gold"), ("Agnico Eagle", "ORG", "Agnico Eagle"),
                     ("Kazakh", "NORP", "Kazakh")]


def test_the_scan_replaces_a_span_it_contains_and_respects_others(nlp):
    table = AliasTable.from_dict({"NORP": {"South African": []}, "ORG": {"UN": []}})
    text = "South African lawmakers met. The UN Charter was read."
    african = (text.index("African"), text.index("African") + len("African"))
    charter = (text.index("UN Charter"), text.index("UN Charter") + len("UN Charter"))
    found, replaced = scan(nlp, text, table, [african, charter])
    assert found == [("South African", "NORP", "South African")] and replaced == [african]


def test_the_scan_does_not_end_a_name_on_punctuation(nlp):
    table = AliasTable.from_dict({"ORG": {"Visma-Lease a Bike": []}})
    found, _ = scan(nlp, "He rides for Visma-Lease a Bike.\nNext stage", table, [])
    assert found == [("Visma-Lease a Bike", "ORG", "Visma-Lease a Bike")]
