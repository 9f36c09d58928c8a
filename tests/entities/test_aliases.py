"""The alias table: lookups, the YAML format and its errors, the shipped starter set."""

from __future__ import annotations

import pytest

from transforms.entities.aliases import ALIASES_ENV, DEFAULT_ALIASES_PATH, Alias, AliasTable, alias_key


@pytest.mark.parametrize(
    ("text", "key"),
    [("U.N.", "un"), ("the UN's", "un"), ("The  United\nNations", "united nations"), ("Putin\u2019s", "putin")],
)
def test_alias_key(text, key):
    assert alias_key(text) == key


@pytest.fixture(scope="module")
def shipped() -> AliasTable:
    return AliasTable.load(DEFAULT_ALIASES_PATH)


@pytest.mark.parametrize(
    ("variant", "name", "type_"),
    [
        ("UN", "United Nations", "ORG"),
        ("U.N.", "United Nations", "ORG"),
        ("US", "United States", "GPE"),
        ("U.S.", "United States", "GPE"),
        ("IMF", "International Monetary Fund", "ORG"),
        ("WHO", "World Health Organization", "ORG"),
        ("NATO", "North Atlantic Treaty Organization", "ORG"),
        ("EU", "European Union", "ORG"),
        ("Britain", "United Kingdom", "GPE"),
        ("Kiev", "Kyiv", "GPE"),
        ("WWII", "World War II", "EVENT"),
        ("UN Security Council", "UN Security Council", "ORG"),
    ],
)
def test_shipped_starter_set(shipped, variant, name, type_):
    assert shipped.lookup(variant) == Alias(name, type_)


def test_shipped_table_ignores_documents(shipped):
    assert shipped.ignored("the UN Charter")
    assert not shipped.ignored("United Nations")


def test_conflicting_variants_are_refused():
    with pytest.raises(ValueError, match="maps to both"):
        AliasTable.from_dict({"ORG": {"Alpha": ["AB"], "Beta": ["A.B."]}})


def test_unknown_type_is_refused():
    with pytest.raises(ValueError, match="unknown entity type 'CITY'"):
        AliasTable.from_dict({"CITY": {"Paris": []}})


def test_path_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "aliases.yaml"
    path.write_text("PERSON:\n  Ada Lovelace: [Countess of Lovelace]\n", encoding="utf-8")
    monkeypatch.setenv(ALIASES_ENV, str(path))
    table = AliasTable.load()
    assert len(table) == 2
    assert table.lookup("countess of lovelace") == Alias("Ada Lovelace", "PERSON")
