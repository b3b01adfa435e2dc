"""The HTTP surface: health, readiness, GraphiQL, GET queries, the access log."""

import logging

import httpx
import pytest

from tests.conftest import GraphQLClient, TestDatabase, client_with, make_settings
from web.app import create_app


async def test_health_and_readiness(client: GraphQLClient) -> None:
    assert (await client.http.get("/healthz")).json() == {"status": "ok"}
    ready = await client.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "media": "ok"}


async def test_graphiql_opens_on_example_queries(client: GraphQLClient) -> None:
    response = await client.http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "query AgreementWithPlanAndVisits" in response.text
    assert "Welcome to GraphiQL" not in response.text


async def test_graphiql_can_be_switched_off(seeded_db: TestDatabase) -> None:
    app = create_app(make_settings(seeded_db.url, CMS_GRAPHIQL="false"), manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 404


async def test_queries_over_get(client: GraphQLClient) -> None:
    # The first public GET of a process also reads when the next scheduled publication
    # is (HTTP max-age must not outlast it); that is kept until content changes.
    await client.http.get("/graphql", params={"query": "{ __typename }"})
    response = await client.http.get("/graphql", params={"query": "{ regions { code } }"})
    assert response.status_code == 200
    assert {region["code"] for region in response.json()["data"]["regions"]} >= {
        "RU-AMU",
        "RU-ALT",
    }
    assert response.headers["x-sql-count"] == "1"


async def test_access_log_line_per_request(
    client: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="cms.access"):
        await client.http.get("/healthz?email=secret@example.com")
    (record,) = [record for record in caplog.records if record.name == "cms.access"]
    line = record.getMessage()
    assert line.startswith("GET /healthz 200 ")
    assert "sql=0" in line
    assert "secret" not in line


async def test_unexpected_errors_are_masked_with_an_id_in_the_log(
    seeded_db: TestDatabase, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cms.services import richtext

    def broken(text: str) -> int:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(richtext, "reading_time_minutes", broken)
    # A resolver's failure: Strawberry's path (the read compiler counts in SQL).
    async with client_with(seeded_db, CMS_QUERY_COMPILER="off") as client:
        with caplog.at_level(logging.ERROR, logger="cms.graphql"):
            result = await client.post("{ news { edges { node { readingTimeMinutes } } } }")
    (error,) = result["errors"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "secret" not in str(result)
    error_id = error["extensions"]["errorId"]
    assert error_id in error["message"]
    assert any(error_id in record.getMessage() and record.exc_info for record in caplog.records)


async def test_access_log_can_be_turned_off(
    seeded_db: TestDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    async with client_with(seeded_db, CMS_ACCESS_LOG="off") as quiet:
        with caplog.at_level(logging.INFO, logger="cms.access"):
            response = await quiet.http.get("/healthz")
    assert response.status_code == 200
    assert [record for record in caplog.records if record.name == "cms.access"] == []
