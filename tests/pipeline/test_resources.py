from transforms import resources


def test_checkout_configs_first_then_the_installed_copy(tmp_path, monkeypatch):
    assert resources.config_path("rules") == resources.CHECKOUT_CONFIGS / "rules"
    installed = tmp_path / "share" / "wirenews" / "configs"
    (installed / "rules").mkdir(parents=True)
    monkeypatch.setattr(resources, "CHECKOUT_CONFIGS", tmp_path / "no-checkout")
    monkeypatch.setattr(resources, "INSTALLED_CONFIGS", installed)
    assert resources.config_path("rules") == installed / "rules"
    assert resources.config_path("absent.yaml") == tmp_path / "no-checkout" / "absent.yaml"
