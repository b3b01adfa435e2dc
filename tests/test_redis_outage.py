"""A Redis outage does not take the API down: a real server process on a Redis of the
test's own, which the test kills and starts again. Rate limits fall back to the
process, the response cache is bypassed, APQ registrations miss, /readyz says
"degraded", and everything comes back by itself."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

from cms.models import News
from cms.services.trusted_documents import document_hash
from graphql_schema.relay import global_id
from tests.conftest import GraphQLClient, TestDatabase
from tests.editing.helpers import UPDATE_NEWS, sign_in
from tests.feedback.test_two_processes import server_process, wait_ready
from tests.own_redis import OwnRedis, own_redis
from tests.seed_content import NEWS_SLUG

LIST = "{ news(first: 5) { edges { node { slug title } } } }"
PAGE = "query($first: Int) { news(first: $first) { edges { node { slug } } } }"
APQ_QUERY = "{ tags(first: 3) { edges { node { slug } } } }"


def environ(db: TestDatabase, redis: OwnRedis, **extra: str) -> dict[str, str]:
    return {
        "CMS_DATABASE_URL": db.url,
        "CMS_REDIS_URL": redis.url,
        "CMS_RESPONSE_CACHE": "on",
        "CMS_SECRET_KEY": "test-secret-key-not-for-production",
        "CMS_ACCESS_LOG": "off",
        # The bursts below come from one address: the request limit is not the subject.
        "CMS_RATE_LIMIT_ANONYMOUS": "1000000/60",
        **extra,
    }


async def readiness(http: httpx.AsyncClient, base: str) -> tuple[int, dict[str, str]]:
    response = await http.get(f"{base}/readyz")
    return response.status_code, response.json()


async def read(http: httpx.AsyncClient, base: str, query: str = LIST) -> httpx.Response:
    response = await http.post(f"{base}/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    assert "errors" not in response.json(), response.text
    return response


async def apq(http: httpx.AsyncClient, base: str, *, with_text: bool) -> dict[str, object]:
    persisted = {"version": 1, "sha256Hash": document_hash(APQ_QUERY)}
    body: dict[str, object] = {"extensions": {"persistedQuery": persisted}}
    if with_text:
        body["query"] = APQ_QUERY
    response = await http.post(f"{base}/graphql", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def until_recovered(http: httpx.AsyncClient, base: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if await readiness(http, base) == (
            200,
            {"status": "ok", "database": "ok", "media": "ok", "redis": "ok"},
        ):
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the server did not notice that Redis is back")


async def until_cached(http: httpx.AsyncClient, base: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if (await read(http, base)).headers["x-sql-count"] == "0":
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the response cache did not come back")


async def test_the_api_keeps_answering_while_redis_is_down_and_recovers(
    db: TestDatabase, tmp_path: Path
) -> None:
    with (
        own_redis(tmp_path) as redis,
        server_process(environ(db, redis), tmp_path / "server.log") as (base, process),
    ):
        async with httpx.AsyncClient(timeout=30) as http:
            await wait_ready(http, base, process)
            assert await readiness(http, base) == (
                200,
                {"status": "ok", "database": "ok", "media": "ok", "redis": "ok"},
            )
            await read(http, base)
            assert (await read(http, base)).headers["x-sql-count"] == "0"  # cached in Redis

            redis.stop()
            for _ in range(50):
                answer = await read(http, base)
                assert answer.headers["x-sql-count"] != "0"  # the cache is bypassed
                typename = await read(http, base, "{ __typename }")
                assert typename.json()["data"] == {"__typename": "Query"}
            # A registration cannot be kept: the hash alone misses, and the client's
            # link sends the text again, which runs.
            assert "data" in await apq(http, base, with_text=True)
            missed = await apq(http, base, with_text=False)
            assert missed["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
            # Degraded but serving: it stays in rotation (200) and says what is missing.
            assert await readiness(http, base) == (
                200,
                {"status": "degraded", "database": "ok", "media": "ok", "redis": "unavailable"},
            )

            redis.start()  # an empty Redis on the same port, as after a restart
            await until_recovered(http, base)
            await until_cached(http, base)  # within a retry pause (a second)
            assert "data" in await apq(http, base, with_text=True)
            assert "data" in await apq(http, base, with_text=False)

    log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in log
    # Told, but not once per request: two hundred requests hit the outage.
    warnings = [line for line in log.splitlines() if "Redis" in line and "unavailable" in line]
    assert 1 <= len(warnings) <= 6, warnings


async def test_a_change_made_while_redis_is_unreachable_is_not_hidden_by_its_cache(
    db: TestDatabase, tmp_path: Path
) -> None:
    """Redis frozen with its entries (a partition): the change made meanwhile could not
    void them, so the first call that reaches Redis again does, before any is served."""
    staff = GraphQLClient(httpx.AsyncClient())
    await sign_in(staff, "editor")
    await staff.http.aclose()
    news_id = global_id("News", (await News.get(slug=NEWS_SLUG)).pk)
    query = "{ news(first: 100) { edges { node { slug title } } } }"

    def title(response: httpx.Response) -> str:
        edges = response.json()["data"]["news"]["edges"]
        return next(e["node"]["title"] for e in edges if e["node"]["slug"] == NEWS_SLUG)

    with own_redis(tmp_path) as redis:
        settings = environ(db, redis, CMS_REDIS_SOCKET_TIMEOUT="0.3")
        with server_process(settings, tmp_path / "server.log") as (base, process):
            async with httpx.AsyncClient(timeout=30) as http:
                await wait_ready(http, base, process)
                await read(http, base, query)
                cached = await read(http, base, query)
                assert cached.headers["x-sql-count"] == "0"
                before = title(cached)

                redis.pause()
                changed = await http.post(
                    f"{base}/graphql",
                    json={
                        "query": UPDATE_NEWS,
                        "variables": {"id": news_id, "input": {"title": "Изменено при сбое"}},
                    },
                    headers=staff.headers,
                )
                assert changed.json()["data"]["updateNews"]["errors"] == [], changed.text
                assert title(await read(http, base, query)) == "Изменено при сбое"

                redis.resume()
                await until_recovered(http, base)
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:
                    answer = await read(http, base, query)
                    assert title(answer) == "Изменено при сбое", before
                    if answer.headers["x-sql-count"] == "0":
                        break
                    await asyncio.sleep(0.1)
                else:
                    raise AssertionError("the response cache did not come back")


async def burst(base: str, size: int) -> list[int]:
    """`size` requests sent at the same moment over connections opened beforehand, so
    that the server has them all in flight at once: public reads (cacheable, GET and
    POST, hits and misses), each counted against the rate limit."""
    host, port = base.removeprefix("http://").split(":")

    def request(number: int) -> bytes:
        if number % 3 == 0:
            target = "/graphql?" + urlencode({"query": LIST})
            return f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
        variables = {"first": 1 + number % 20}
        body = json.dumps({"query": PAGE, "variables": variables}).encode()
        head = (
            f"POST /graphql HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    connections = await asyncio.gather(
        *(asyncio.open_connection(host, int(port)) for _ in range(size))
    )
    for number, (_, writer) in enumerate(connections):
        writer.write(request(number))

    async def status(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> int:
        line = await reader.readline()
        await reader.read()
        writer.close()
        return int(line.split()[1])

    return await asyncio.gather(*(status(reader, writer) for reader, writer in connections))


async def test_a_burst_of_500_requests_answers_no_5xx_with_redis_up_and_down(
    db: TestDatabase, tmp_path: Path
) -> None:
    with (
        own_redis(tmp_path) as redis,
        server_process(environ(db, redis), tmp_path / "server.log") as (base, process),
    ):
        async with httpx.AsyncClient(timeout=30) as http:
            await wait_ready(http, base, process)
            healthy = await burst(base, 500)
            assert sorted(set(healthy)) == [200], healthy

            redis.stop()
            down = await burst(base, 500)
            assert sorted(set(down)) == [200], down

    assert "Traceback" not in (tmp_path / "server.log").read_text()
