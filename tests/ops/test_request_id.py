"""Request ids: kept or made, returned, in every log line of the request and in
masked error answers; JSON log lines."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from tests.conftest import TestDatabase, make_settings
from tests.ops.conftest import captured_log
from web.app import create_app


def _app(database: TestDatabase, **env: str) -> httpx.AsyncClient:
    app = create_app(make_settings(database.url, **env), manage_database=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_an_incoming_id_is_kept_and_a_missing_or_unsafe_one_is_made(
    seeded_db: TestDatabase,
) -> None:
    async with _app(seeded_db) as http:
        kept = await http.get("/healthz", headers={"x-request-id": "edge-1f2e:42.a_b"})
        assert kept.headers["x-request-id"] == "edge-1f2e:42.a_b"
        made = await http.get("/healthz")
        other = await http.get("/healthz")
        assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
        assert made.headers["x-request-id"] != other.headers["x-request-id"]
        for unsafe in ("x" * 129, "a b", 'id"<script>', "ид"):
            response = await http.get("/healthz", headers={"x-request-id": unsafe.encode()})
            assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"]), unsafe


async def test_every_log_line_of_a_request_carries_its_id(seeded_db: TestDatabase) -> None:
    settings = make_settings(seeded_db.url, CMS_LOG_FORMAT="json")
    with captured_log(settings) as output:
        async with _app(seeded_db, CMS_LOG_FORMAT="json") as http:
            response = await http.post(
                "/graphql",
                json={"query": "{ regions { code } }"},
                headers={"x-request-id": "trace-0001"},
            )
            assert response.status_code == 200
            await http.get("/healthz", headers={"x-request-id": "trace-0002"})
    lines = [json.loads(line) for line in output.getvalue().splitlines()]
    mine = [line for line in lines if line["request_id"] == "trace-0001"]
    # The statements of the request (at DEBUG) and its access line, all with its id.
    assert any(line["logger"] == "tortoise.db_client" for line in mine)
    (access,) = [line for line in mine if line["logger"] == "cms.access"]
    assert access["method"] == "POST"
    assert access["path"] == "/graphql"
    assert access["status"] == 200
    assert access["sql"] >= 1
    assert isinstance(access["duration_ms"], float)
    assert set(access) >= {"time", "level", "logger", "message", "request_id"}
    assert access["level"] == "INFO"
    (health,) = [line for line in lines if line["request_id"] == "trace-0002"]
    assert health["path"] == "/healthz"


async def test_masked_graphql_errors_name_the_request(
    seeded_db: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cms.services import richtext

    def broken(text: str) -> int:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(richtext, "reading_time_minutes", broken)
    settings = make_settings(seeded_db.url)
    with captured_log(settings) as output:
        # A resolver's failure: Strawberry's path (the read compiler counts in SQL).
        async with _app(seeded_db, CMS_QUERY_COMPILER="off") as http:
            response = await http.post(
                "/graphql",
                json={"query": "{ news(first: 1) { edges { node { readingTimeMinutes } } } }"},
                headers={"x-request-id": "report-77"},
            )
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["extensions"]["requestId"] == "report-77"
    assert response.headers["x-request-id"] == "report-77"
    assert "secret" not in response.text
    # The traceback is logged under the same id.
    log = output.getvalue()
    (line,) = [line for line in log.splitlines() if error["extensions"]["errorId"] in line]
    assert "[report-77]" in line


async def test_the_json_500_names_the_request(
    seeded_db: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    from web import view

    def broken(result: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(view, "process_result", broken)
    settings = make_settings(seeded_db.url, CMS_LOG_FORMAT="json")
    with captured_log(settings) as output:
        # process_result is Strawberry's path (a compiled read never calls it).
        async with _app(seeded_db, CMS_LOG_FORMAT="json", CMS_QUERY_COMPILER="off") as http:
            response = await http.post(
                "/graphql", json={"query": "{ __typename }"}, headers={"x-request-id": "r-500"}
            )
    assert response.status_code == 500
    (error,) = response.json()["errors"]
    assert error["extensions"]["requestId"] == "r-500"
    assert response.headers["x-request-id"] == "r-500"
    lines = [json.loads(line) for line in output.getvalue().splitlines()]
    (logged,) = [line for line in lines if error["extensions"]["errorId"] in line["message"]]
    assert logged["request_id"] == "r-500"
    assert "RuntimeError" in logged["exception"]
