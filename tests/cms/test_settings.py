from pathlib import Path

import pytest

from cms.settings import PRODUCTION, SettingsError, load_settings


def test_defaults_are_safe_for_development(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    assert settings.env == "development"
    assert settings.host == "127.0.0.1"
    assert settings.port == 8000
    assert settings.database_url.startswith("sqlite://")
    assert settings.site_url == "http://localhost:3000"
    # The generated development key is kept, so tokens survive a restart.
    assert settings.secret_key == load_settings({}).secret_key
    assert len(settings.secret_key) >= 32


def test_production_requires_a_secret_key() -> None:
    with pytest.raises(SettingsError, match="CMS_SECRET_KEY"):
        load_settings({"CMS_ENV": PRODUCTION})
    assert load_settings({"CMS_ENV": PRODUCTION, "CMS_SECRET_KEY": "k" * 40}).is_production


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CMS_ENV", "staging"),
        ("CMS_PORT", "eighty"),
        ("CMS_PORT", "0"),
        ("CMS_PAGE_SIZE_MAX", "-5"),
        ("CMS_GRAPHIQL", "maybe"),
        ("CMS_URL_NEWS", "{site}/news/"),
    ],
)
def test_bad_values_are_refused_with_the_variable_name(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"CMS_SECRET_KEY": "k", name: value})
    assert name in str(caught.value) or "{slug}" in str(caught.value)


def test_url_templates_and_site_are_configurable() -> None:
    settings = load_settings(
        {
            "CMS_SECRET_KEY": "k",
            "CMS_SITE_URL": "https://invest.amurobl.ru/",
            "CMS_URL_NEWS": "{site}/novosti/{slug}/",
        }
    )
    assert settings.site_url == "https://invest.amurobl.ru"
    assert settings.url_templates.news == "{site}/novosti/{slug}/"


def test_trash_retention_is_configurable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings({}).trash_retention_days == 30
    assert load_settings({"CMS_TRASH_RETENTION_DAYS": "7"}).trash_retention_days == 7
    with pytest.raises(SettingsError, match="CMS_TRASH_RETENTION_DAYS"):
        load_settings({"CMS_TRASH_RETENTION_DAYS": "-1"})
