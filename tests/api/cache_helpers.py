"""Apps with the response cache on, over a test's own database, in process or on Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from cms.runtime import Runtime
from tests.conftest import GraphQLClient, make_settings, require_redis_url
from web.response_cache import MemoryStore, ResponseCache

NEWS_LIST = "{ news(first: 100) { totalCount edges { node { id slug title } } } }"


class CachedApp:
    """One application (one 'process'): an anonymous client and a staff client."""

    def __init__(self, app: Starlette, http: httpx.AsyncClient) -> None:
        self.app = app
        self.http = http
        self.anonymous = GraphQLClient(http)
        self.staff = GraphQLClient(http)

    @property
    def runtime(self) -> Runtime:
        return self.app.state.runtime

    @property
    def response_cache(self) -> ResponseCache:
        return self.app.state.response_cache

    def memory_entries(self) -> MemoryStore:
        store = self.response_cache.store
        assert isinstance(store, MemoryStore)
        return store

    async def read(self, query: str = NEWS_LIST, **variables: Any) -> httpx.Response:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        return response


@pytest.fixture
def cache_overrides() -> dict[str, str]:
    return {"CMS_RESPONSE_CACHE": "on"}


async def cached_app(database_url: str, **overrides: str) -> AsyncIterator[CachedApp]:
    from web.app import create_app

    app = create_app(make_settings(database_url, **overrides), manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        try:
            yield CachedApp(app, http)
        finally:
            await app.state.response_cache.store.clear()
            await app.state.runtime.close()


def redis_overrides() -> dict[str, str]:
    """Settings of apps sharing one Redis, under a prefix of this test's own."""
    return {
        "CMS_RESPONSE_CACHE": "on",
        "CMS_REDIS_URL": require_redis_url(),
        "CMS_REDIS_PREFIX": f"cms-test-{uuid.uuid4().hex[:10]}",
    }
