"""Requests a browser can send from another site without asking first (forms, text/plain
bodies, GETs) cannot change anything: refused before the caller is identified, the
body read or any SQL run. CORS lets only the configured origins call the API."""

import httpx
import pytest

from cms.db import count_statements
from cms.settings import SettingsError, load_settings
from tests.conftest import GraphQLClient, TestDatabase, client_with

MUTATION = 'mutation { login(input: {email: "a@b.ru", password: "x"}) { token } }'
QUERY = "{ regions { code } }"


async def without_sql(http: httpx.AsyncClient, method: str, **kwargs: object) -> httpx.Response:
    with count_statements() as statements:
        response = await http.request(method, "/graphql", **kwargs)  # type: ignore[arg-type]
    assert statements == [], statements
    return response


def error_of(response: httpx.Response, code: str) -> dict:
    assert response.headers["content-type"].startswith("application/json")
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == code
    return error


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", b'{"query": "mutation { logout }"}'),
        ("text/plain;charset=UTF-8", b'{"query": "mutation { logout }"}'),
        ("application/x-www-form-urlencoded", b"query=mutation+%7B+logout+%7D"),
        ("application/graphql", b"mutation { logout }"),
        (None, b'{"query": "mutation { logout }"}'),
    ],
)
async def test_bodies_other_than_json_are_refused(
    client: GraphQLClient, content_type: str | None, body: bytes
) -> None:
    headers = {"authorization": "Bearer not-even-looked-up"}
    if content_type is not None:
        headers["content-type"] = content_type
    response = await without_sql(client.http, "POST", content=body, headers=headers)
    assert response.status_code == 415
    error = error_of(response, "UNSUPPORTED_MEDIA_TYPE")
    assert "application/json" in error["message"]
    if content_type is not None:
        assert content_type.split(";")[0] in error["message"]


async def test_a_cross_site_form_post_with_a_file_is_refused(client: GraphQLClient) -> None:
    files = {
        "operations": (None, '{"query": "mutation { logout }", "variables": {}}'),
        "map": (None, "{}"),
    }
    response = await without_sql(client.http, "POST", files=files)
    assert response.status_code == 400
    assert "GraphQL-Require-Preflight" in error_of(response, "CSRF_HEADER_REQUIRED")["message"]


async def test_multipart_with_the_preflight_header_passes_the_gate(client: GraphQLClient) -> None:
    files = {"operations": (None, '{"query": "{ __typename }"}'), "map": (None, "{}")}
    response = await client.http.post(
        "/graphql", files=files, headers={"apollo-require-preflight": "true"}
    )
    # Past the gate: anonymous callers may not upload, and are told so.
    assert response.status_code == 401


async def test_json_with_a_charset_is_json(client: GraphQLClient) -> None:
    response = await client.http.post(
        "/graphql",
        content=b'{"query": "{ __typename }"}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200
    assert response.json()["data"] == {"__typename": "Query"}


async def test_mutations_over_get_are_refused(client: GraphQLClient) -> None:
    response = await without_sql(client.http, "GET", params={"query": MUTATION})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "POST" in error_of(response, "METHOD_NOT_ALLOWED")["message"]
    both = f"query Read {QUERY} mutation Write {{ logout }}"
    response = await without_sql(
        client.http, "GET", params={"query": both, "operationName": "Write"}
    )
    assert response.status_code == 405
    response = await client.http.get("/graphql", params={"query": both, "operationName": "Read"})
    assert response.status_code == 200
    assert response.json()["data"]["regions"]


async def test_cors_preflight_from_an_allowed_origin(seeded_db: TestDatabase) -> None:
    async with client_with(
        seeded_db, CMS_CORS_ORIGINS="https://invest.example, https://admin.invest.example/"
    ) as client:
        response = await without_sql(
            client.http,
            "OPTIONS",
            headers={
                "origin": "https://admin.invest.example",
                "access-control-request-method": "POST",
                "access-control-request-headers": (
                    "content-type, authorization, apollo-require-preflight"
                ),
            },
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "https://admin.invest.example"
        allowed = response.headers["access-control-allow-headers"].lower()
        for header in ("content-type", "authorization", "apollo-require-preflight"):
            assert header in allowed
        assert "access-control-allow-credentials" not in response.headers

        response = await client.http.post(
            "/graphql", json={"query": QUERY}, headers={"origin": "https://invest.example"}
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "https://invest.example"
        assert "etag" in response.headers["access-control-expose-headers"].lower()


@pytest.mark.parametrize("origins", ["https://invest.example", ""])
async def test_cors_preflight_from_another_origin(seeded_db: TestDatabase, origins: str) -> None:
    async with client_with(seeded_db, CMS_CORS_ORIGINS=origins) as client:
        response = await without_sql(
            client.http,
            "OPTIONS",
            headers={
                "origin": "https://evil.example",
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type",
            },
        )
        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers
        (error,) = response.json()["errors"]
        assert error["extensions"]["code"] == "CORS_NOT_ALLOWED"
        assert "CMS_CORS_ORIGINS" in error["message"]
        response = await client.http.post(
            "/graphql", json={"query": QUERY}, headers={"origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in response.headers


def test_cors_origins_setting() -> None:
    base = {"CMS_SECRET_KEY": "x", "CMS_DATABASE_URL": "sqlite://:memory:"}
    assert load_settings(base).cors_origins == ()
    settings = load_settings({**base, "CMS_CORS_ORIGINS": "https://a.ru, http://localhost:3000/"})
    assert settings.cors_origins == ("https://a.ru", "http://localhost:3000")
    for bad in ("a.ru", "https://a.ru/path", "ftp://a.ru"):
        with pytest.raises(SettingsError, match="CMS_CORS_ORIGINS"):
            load_settings({**base, "CMS_CORS_ORIGINS": bad})


@pytest.mark.parametrize(("env", "allowed"), [("development", True), ("production", False)])
async def test_development_lets_the_front_end_of_site_url_in(
    seeded_db: TestDatabase, env: str, allowed: bool
) -> None:
    """The front-end at the default CMS_SITE_URL (localhost:3000) works in development
    without CMS_CORS_ORIGINS; production allows only the configured origins."""
    async with client_with(
        seeded_db, CMS_ENV=env, CMS_SITE_URL="http://localhost:3000/", CMS_CORS_ORIGINS=""
    ) as client:
        response = await without_sql(
            client.http,
            "OPTIONS",
            headers={
                "origin": "http://localhost:3000",
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type",
            },
        )
        assert response.status_code == (200 if allowed else 400)
        origin = response.headers.get("access-control-allow-origin")
        assert origin == ("http://localhost:3000" if allowed else None)


def test_cors_allowed_origins_add_the_site_origin_in_development_only() -> None:
    base = {"CMS_SECRET_KEY": "x", "CMS_DATABASE_URL": "sqlite://:memory:"}
    assert load_settings(base).cors_allowed_origins == ("http://localhost:3000",)
    settings = load_settings(
        {
            **base,
            "CMS_SITE_URL": "https://Invest.Example/news",
            "CMS_CORS_ORIGINS": "https://a.ru",
        }
    )
    assert settings.cors_allowed_origins == ("https://a.ru", "https://invest.example")
    same = load_settings({**base, "CMS_CORS_ORIGINS": "http://localhost:3000"})
    assert same.cors_allowed_origins == ("http://localhost:3000",)
    production = load_settings(
        {**base, "CMS_ENV": "production", "CMS_CORS_ORIGINS": "https://a.ru"}
    )
    assert production.cors_allowed_origins == ("https://a.ru",)
