"""Two real server processes sharing one database and one Redis: a change made
through one is seen by the next anonymous read through the other, at once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis

from cms.models import News
from graphql_schema.relay import global_id
from tests.conftest import GraphQLClient, TestDatabase
from tests.editing.helpers import DELETE_NEWS, PUBLISH_NEWS, UPDATE_NEWS, sign_in
from tests.feedback.test_two_processes import server_process, wait_ready
from tests.seed_content import DRAFT_NEWS_SLUG, NEWS_SLUG

LIST = "{ news(first: 100) { edges { node { slug title } } } }"
AGREEMENTS = "{ agreements(first: 10) { edges { node { slug title parties { name } } } } }"
UNPUBLISH = "mutation($id: ID!) { unpublishNews(id: $id) { errors { field code message } } }"


async def test_invalidations_cross_processes(
    redis_url: str, db: TestDatabase, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:12]
    prefix = f"cms-test-{run}"
    # A client address of this run's own (through a trusted proxy): no other run
    # shares its rate-limit counters in the shared Redis.
    address = f"2001:db8:2::{run[:4]}:{run[4:8]}:{run[8:]}"
    environ = {
        "CMS_DATABASE_URL": db.url,
        "CMS_REDIS_URL": redis_url,
        "CMS_REDIS_PREFIX": prefix,
        "CMS_RESPONSE_CACHE": "on",
        "CMS_SECRET_KEY": "test-secret-key-not-for-production",
        "CMS_TRUSTED_PROXIES": "127.0.0.1",
    }
    staff = GraphQLClient(httpx.AsyncClient())
    await sign_in(staff, "editor")
    await staff.http.aclose()
    draft_id = global_id("News", (await News.get(slug=DRAFT_NEWS_SLUG)).pk)
    news_id = global_id("News", (await News.get(slug=NEWS_SLUG)).pk)

    with (
        server_process(environ, tmp_path / "a.log") as (first, first_process),
        server_process(environ, tmp_path / "b.log") as (second, second_process),
    ):
        async with httpx.AsyncClient(timeout=30) as http:
            await wait_ready(http, first, first_process)
            await wait_ready(http, second, second_process)

            async def read(base: str, query: str = LIST) -> httpx.Response:
                response = await http.post(
                    f"{base}/graphql", json={"query": query}, headers={"x-forwarded-for": address}
                )
                assert response.status_code == 200, response.text
                return response

            async def change(document: str, variables: dict[str, Any]) -> None:
                response = await http.post(
                    f"{first}/graphql",
                    json={"query": document, "variables": variables},
                    headers=staff.headers,
                )
                (payload,) = response.json()["data"].values()
                assert payload["errors"] == [], payload

            def slugs(response: httpx.Response) -> list[str]:
                return [e["node"]["slug"] for e in response.json()["data"]["news"]["edges"]]

            async def cached(base: str, query: str) -> bool:
                return (await read(base, query)).headers["x-sql-count"] == "0"

            await read(second)
            cached_list = await read(second)
            assert cached_list.headers["x-sql-count"] == "0"
            assert (await read(first)).headers["x-sql-count"] == "0"  # one shared cache
            await read(second, AGREEMENTS)
            assert await cached(second, AGREEMENTS)

            # A draft edit through A voids nothing that B serves.
            await change(UPDATE_NEWS, {"id": draft_id, "input": {"title": "Черновик"}})
            assert await cached(second, LIST)

            await change(UPDATE_NEWS, {"id": news_id, "input": {"title": "Обновлено"}})
            titles = [
                e["node"]["title"] for e in (await read(second)).json()["data"]["news"]["edges"]
            ]
            assert titles == ["Обновлено"]

            await change(PUBLISH_NEWS, {"id": draft_id})
            assert DRAFT_NEWS_SLUG in slugs(await read(second))
            # News changes leave B's cached agreements alone.
            assert await cached(second, AGREEMENTS)

            # A scheduled item: B caches the list until, and only until, its go-live.
            await change(UNPUBLISH, {"id": draft_id})
            go_live = datetime.now(UTC) + timedelta(seconds=2)
            await change(PUBLISH_NEWS, {"id": draft_id, "at": go_live.isoformat()})
            assert DRAFT_NEWS_SLUG not in slugs(await read(second))
            assert (await read(second)).headers["x-sql-count"] == "0"
            await asyncio.sleep(max(0.0, (go_live - datetime.now(UTC)).total_seconds()) + 0.05)
            assert DRAFT_NEWS_SLUG in slugs(await read(second))

            await change(UNPUBLISH, {"id": draft_id})
            assert DRAFT_NEWS_SLUG not in slugs(await read(second))
            assert NEWS_SLUG in slugs(await read(second))
            await change(DELETE_NEWS, {"id": news_id})
            assert NEWS_SLUG not in slugs(await read(second))

    redis = Redis.from_url(redis_url)
    try:
        keys = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()
