import re
from dataclasses import fields
from pathlib import Path

import pytest

from cms.settings import (
    PRODUCTION,
    Settings,
    SettingsError,
    UrlTemplates,
    documented_defaults,
    load_settings,
)


def test_defaults_are_safe_for_development(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    assert settings.env == "development"
    assert settings.host == "127.0.0.1"
    assert settings.port == 8000
    assert settings.database_url.startswith("sqlite://")
    assert settings.site_url == "http://localhost:3000"
    assert settings.public_url == "http://127.0.0.1:8000"
    # The generated development key is kept, so tokens survive a restart.
    assert settings.secret_key == load_settings({}).secret_key
    assert len(settings.secret_key) >= 32


def test_graphiql_is_on_in_development_and_off_in_production_unless_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    production = {"CMS_ENV": PRODUCTION, "CMS_SECRET_KEY": "k" * 40}
    assert load_settings({}).graphiql is True
    assert load_settings({"CMS_GRAPHIQL": "off"}).graphiql is False
    assert load_settings(production).graphiql is False
    assert load_settings({**production, "CMS_GRAPHIQL": "on"}).graphiql is True


@pytest.mark.parametrize(
    ("host", "port", "public_url"),
    [
        ("127.0.0.1", "9000", "http://127.0.0.1:9000"),
        ("cms.local", "8080", "http://cms.local:8080"),
        ("0.0.0.0", "8001", "http://127.0.0.1:8001"),
        ("::", "8002", "http://[::1]:8002"),
        ("::1", "8003", "http://[::1]:8003"),
    ],
)
def test_public_url_defaults_to_where_the_server_listens(
    host: str, port: str, public_url: str
) -> None:
    """Media and rendition URLs point at the server on whatever port it runs."""
    settings = load_settings({"CMS_SECRET_KEY": "k", "CMS_HOST": host, "CMS_PORT": port})
    assert settings.public_url == public_url
    assert settings.feedback_queue_url == public_url + "/graphql"
    explicit = load_settings(
        {"CMS_SECRET_KEY": "k", "CMS_PORT": port, "CMS_PUBLIC_URL": "https://api.example/"}
    )
    assert explicit.public_url == "https://api.example"


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
        ("CMS_REDIS_POOL_TIMEOUT", "soon"),
        ("CMS_REDIS_SOCKET_TIMEOUT", "0"),
        ("CMS_REDIS_MAX_CONNECTIONS", "0"),
        ("CMS_LOGIN_LIMIT_ACCOUNT_ADDRESS", "5"),
        ("CMS_PASSWORD_THREADS", "0"),
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


def test_cache_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    defaults = load_settings({"CMS_SECRET_KEY": "k"})
    assert defaults.response_cache is True
    assert (defaults.http_cache_max_age, defaults.http_cache_swr) == (60, 300)
    assert defaults.trusted_documents is False
    changed = load_settings(
        {
            "CMS_SECRET_KEY": "k",
            "CMS_RESPONSE_CACHE": "off",
            "CMS_HTTP_CACHE_MAX_AGE": "10",
            "CMS_HTTP_CACHE_SWR": "0",
            "CMS_TRUSTED_DOCUMENTS": "on",
            "CMS_RESPONSE_CACHE_MAX_ENTRIES": "50",
        }
    )
    assert changed.response_cache is False
    assert (changed.http_cache_max_age, changed.http_cache_swr) == (10, 0)
    assert changed.trusted_documents is True
    assert changed.response_cache_max_entries == 50
    with pytest.raises(SettingsError, match="CMS_RESPONSE_CACHE"):
        load_settings({"CMS_SECRET_KEY": "k", "CMS_RESPONSE_CACHE": "sometimes"})


def test_several_workers_without_redis_cache_nothing_in_process() -> None:
    from web.response_cache import ResponseCache

    settings = load_settings({"CMS_SECRET_KEY": "k", "CMS_WORKERS": "4"})
    assert ResponseCache.create(settings, None).enabled is False
    assert ResponseCache.create(settings.with_changes(workers=1), None).enabled is True


def test_redis_pool_and_login_settings() -> None:
    settings = load_settings(
        {
            "CMS_SECRET_KEY": "k",
            "CMS_REDIS_MAX_CONNECTIONS": "20",
            "CMS_REDIS_POOL_TIMEOUT": "0.25",
            "CMS_REDIS_SOCKET_TIMEOUT": "2",
            "CMS_REDIS_CONNECT_TIMEOUT": "0.5",
            "CMS_LOGIN_LIMIT_ACCOUNT_ADDRESS": "3/600",
            "CMS_LOGIN_LIMIT_ACCOUNT": "20/7200",
            "CMS_PASSWORD_THREADS": "4",
            "CMS_PASSWORD_QUEUE": "0",
        }
    )
    assert (settings.redis_max_connections, settings.redis_pool_timeout) == (20, 0.25)
    assert (settings.redis_socket_timeout, settings.redis_connect_timeout) == (2.0, 0.5)
    assert (settings.login_limit_account_address.count, settings.login_limit_account.count) == (
        3,
        20,
    )
    assert (settings.password_threads, settings.password_queue) == (4, 0)


README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_default(piece: str) -> str:
    """`600/60` -> 600/60; "unset: in-process" -> unset; "`20971520` (20 MB)" -> 20971520."""
    piece = piece.strip()
    for word in ("unset", "none"):
        if piece.startswith(word):
            return word
    quoted = re.search(r"`([^`]*)`", piece)
    return quoted.group(1) if quoted else piece


def _readme_table() -> dict[str, str]:
    """Every CMS_* variable of the README's configuration table with its stated default."""
    section = README.read_text(encoding="utf-8").split("## Configuration", 1)[1]
    lines = section.split("\n## ", 1)[0].strip().splitlines()
    rows = [line for line in lines if line.startswith("|")]
    first = lines.index(rows[0])
    # One table: its rows follow each other with nothing in between.
    assert lines[first : first + len(rows)] == rows
    table: dict[str, str] = {}
    for line in rows:
        if not line.startswith("| `CMS_"):
            continue
        cells = [cell.strip() for cell in line.strip("|").split(" | ")]
        names = re.findall(r"`(CMS_[A-Z0-9_]+)`", cells[0])
        defaults = [_readme_default(piece) for piece in cells[-1].split(", ")]
        assert len(names) == len(defaults), line
        for name, default in zip(names, defaults, strict=True):
            assert name not in table, f"{name} appears twice in the README"
            table[name] = default
    return table


def test_the_readme_states_every_setting_with_its_default() -> None:
    documented = documented_defaults()
    table = _readme_table()
    assert sorted(set(documented) - set(table)) == [], "settings missing from the README"
    assert sorted(set(table) - set(documented)) == [], "README rows with no setting"
    different = {name: (table[name], documented[name]) for name in documented}
    assert {name: pair for name, pair in different.items() if pair[0] != pair[1]} == {}


def test_every_default_is_what_an_empty_environment_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    loaded = load_settings({"CMS_SECRET_KEY": "k"})
    for item in fields(Settings):
        if item.name in ("database_url", "secret_key", "media_root", "url_templates"):
            continue  # computed when unset (a file, a key) or made absolute
        assert getattr(loaded, item.name) == item.default, item.name
    assert loaded.media_root == (tmp_path / "uploads").resolve()
    assert loaded.url_templates == UrlTemplates()
