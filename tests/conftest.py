"""Test databases and an HTTP client over the real application.

The suite runs on one backend per pytest run: SQLite by default, PostgreSQL
when CMS_TEST_BACKEND=postgres (the Makefile runs both when
CMS_TEST_DATABASE_URL is set). A template database is migrated (with the
migrations, never generate_schemas) and seeded once per run; every test gets
either the shared read-only copy (`seeded_db`) or a fresh copy of its own (`db`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from tortoise.context import TortoiseContext

from cms import db as cms_db
from cms.settings import Settings, load_settings

BACKEND = os.environ.get("CMS_TEST_BACKEND", "sqlite")
POSTGRES_URL = os.environ.get("CMS_TEST_DATABASE_URL", "")


def require_redis_url() -> str:
    """The run's real Redis (CMS_TEST_REDIS_URL); a test without one skips, saying why."""
    url = os.environ.get("CMS_TEST_REDIS_URL", "")
    if not url:
        pytest.skip("CMS_TEST_REDIS_URL is not set: this test needs a real Redis")
    return url


@pytest.fixture
def redis_url() -> str:
    return require_redis_url()


def pytest_report_header() -> str:
    return f"cms test backend: {BACKEND}"


@dataclass(frozen=True)
class TestDatabase:
    __test__ = False

    url: str
    backend: str


class _Databases:
    """Creates and drops databases of the chosen backend.

    On PostgreSQL a test's database is dropped only after DROP_LAG later tests have
    made theirs: a CREATE DATABASE right after a DROP DATABASE took 0.1-0.5 s here
    (the kernel's ext4 inode allocator steps over the inodes just freed), against
    0.03 s with the drops a few databases behind. The drops run on the one admin
    connection of the run, between tests' statements; the session's end waits for them.
    """

    DROP_LAG = 3

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.run_id = uuid.uuid4().hex[:10]
        self._admin: asyncpg.Connection | None = None
        # One statement at a time on the admin connection, in the order asked.
        self._admin_lock = asyncio.Lock()
        self._used: collections.deque[str] = collections.deque()
        self._drops: list[asyncio.Task[None]] = []

    def url(self, name: str) -> str:
        if BACKEND == "postgres":
            parts = urlsplit(POSTGRES_URL)
            return urlunsplit(parts._replace(path=f"/cms_{self.run_id}_{name}"))
        return f"sqlite://{self.tmp / f'{name}.db'}"

    async def _execute(self, statement: str) -> None:
        async with self._admin_lock:
            if self._admin is None:
                self._admin = await asyncpg.connect(
                    POSTGRES_URL.replace("postgres://", "postgresql://", 1)
                )
            await self._admin.execute(statement)

    async def create_empty(self, name: str) -> str:
        url = self.url(name)
        if BACKEND == "postgres":
            await self._execute(f'CREATE DATABASE "cms_{self.run_id}_{name}"')
        return url

    async def copy(self, source: str, name: str) -> str:
        url = self.url(name)
        if BACKEND == "postgres":
            await self._execute(
                f'CREATE DATABASE "cms_{self.run_id}_{name}" TEMPLATE "cms_{self.run_id}_{source}"'
            )
        else:
            shutil.copyfile(self.tmp / f"{source}.db", self.tmp / f"{name}.db")
        return url

    async def fresh_copy(self, source: str) -> str:
        """The name of a new copy of `source`, for one test."""
        name = f"{source[0]}{uuid.uuid4().hex[:12]}"
        await self.copy(source, name)
        return name

    async def drop(self, name: str) -> None:
        if BACKEND == "postgres":
            await self._execute(f'DROP DATABASE IF EXISTS "cms_{self.run_id}_{name}" WITH (FORCE)')
        else:
            self._remove_sqlite_files(name)

    def _remove_sqlite_files(self, name: str) -> None:
        for suffix in ("", "-wal", "-shm"):
            (self.tmp / f"{name}.db{suffix}").unlink(missing_ok=True)

    def drop_later(self, name: str) -> None:
        """Drops a test's database, on PostgreSQL DROP_LAG tests later (see the class)."""
        if BACKEND != "postgres":
            self._remove_sqlite_files(name)
            return
        self._used.append(name)
        while len(self._used) > self.DROP_LAG:
            self._drops.append(asyncio.create_task(self.drop(self._used.popleft())))

    async def finish_drops(self) -> None:
        """Drops every test's database not dropped yet, and waits for all the drops."""
        while self._used:
            self._drops.append(asyncio.create_task(self.drop(self._used.popleft())))
        drops, self._drops = self._drops, []
        await asyncio.gather(*drops)

    async def close(self) -> None:
        await self.finish_drops()
        if self._admin is not None:
            await self._admin.close()


@pytest.fixture(scope="session")
async def _databases(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[_Databases]:
    if BACKEND == "postgres" and not POSTGRES_URL:
        pytest.skip("CMS_TEST_BACKEND=postgres but CMS_TEST_DATABASE_URL is not set")
    if BACKEND not in ("sqlite", "postgres"):
        pytest.fail(f"unknown CMS_TEST_BACKEND {BACKEND!r}")
    databases = _Databases(tmp_path_factory.mktemp("databases"))
    yield databases
    await databases.close()


@pytest.fixture(scope="session")
async def _migrated_template(_databases: _Databases) -> AsyncIterator[str]:
    """Migrated once per run (with the migrations, never generate_schemas); only copied."""
    url = await _databases.create_empty("migrated")
    await cms_db.migrate(url)
    yield "migrated"
    await _databases.drop("migrated")


@pytest.fixture(scope="session")
async def _template(_databases: _Databases, _migrated_template: str) -> AsyncIterator[str]:
    """The migrated database with the seed content; only copied."""
    from cms.services.seeding import load_seed

    url = await _databases.copy(_migrated_template, "template")
    async with cms_db.database(url):
        await load_seed()
    yield "template"
    await _databases.drop("template")


@pytest.fixture(scope="session")
async def seeded_db(_databases: _Databases, _template: str) -> AsyncIterator[TestDatabase]:
    """The seed content, shared by every test of the run: read it, never write to it."""
    url = await _databases.copy(_template, "shared")
    async with cms_db.database(url):
        yield TestDatabase(url, BACKEND)
    await _databases.drop("shared")


@contextlib.asynccontextmanager
async def _fresh_database(databases: _Databases, source: str) -> AsyncIterator[TestDatabase]:
    name = await databases.fresh_copy(source)
    try:
        async with TortoiseContext() as ctx:
            await ctx.init(config=cms_db.tortoise_config(databases.url(name)))
            yield TestDatabase(databases.url(name), BACKEND)
    finally:
        databases.drop_later(name)


@pytest.fixture
async def db(_databases: _Databases, _template: str) -> AsyncIterator[TestDatabase]:
    """A fresh copy of the seeded database for a test that writes."""
    async with _fresh_database(_databases, _template) as database:
        yield database


@pytest.fixture
async def empty_db(_databases: _Databases, _migrated_template: str) -> AsyncIterator[TestDatabase]:
    """A migrated database with no content."""
    async with _fresh_database(_databases, _migrated_template) as database:
        yield database


# ---------------------------------------------------------------- the application


def make_settings(database_url: str, **overrides: str) -> Settings:
    environ = {
        "CMS_DATABASE_URL": database_url,
        "CMS_SECRET_KEY": "test-secret-key-not-for-production",
        "CMS_SITE_URL": "https://invest.example",
        "CMS_PUBLIC_URL": "https://api.invest.example",
        # Off unless a test turns it on: other tests read what they just wrote.
        "CMS_RESPONSE_CACHE": "off",
        **overrides,
    }
    return load_settings(environ)


class GraphQLClient:
    """Posts GraphQL over HTTP to the app, as a front-end would."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.headers: dict[str, str] = {}

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={**self.headers, **headers},
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of a response that must have no errors."""
        result = await self.post(query, variables)
        assert "errors" not in result, result["errors"]
        return result["data"]

    async def errors(
        self, query: str, variables: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """The errors of a response that must have some."""
        result = await self.post(query, variables)
        assert result.get("errors"), result
        return result["errors"]


async def _client(database: TestDatabase) -> AsyncIterator[GraphQLClient]:
    from web.app import create_app

    app = create_app(make_settings(database.url), manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield GraphQLClient(http)


@contextlib.asynccontextmanager
async def client_with(database: TestDatabase, **env: str) -> AsyncIterator[GraphQLClient]:
    """A client over an app of its own, with these CMS_* variables set."""
    from web.app import create_app

    app = create_app(make_settings(database.url, **env), manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield GraphQLClient(http)


@pytest.fixture
async def client(seeded_db: TestDatabase) -> AsyncIterator[GraphQLClient]:
    """A client over the shared seed database (read-only tests)."""
    async for graphql_client in _client(seeded_db):
        yield graphql_client


@pytest.fixture
async def writer_client(db: TestDatabase) -> AsyncIterator[GraphQLClient]:
    """A client over a fresh database of its own (tests that write)."""
    async for graphql_client in _client(db):
        yield graphql_client


# ---------------------------------------------------------------- callers

STAFF_PASSWORD = "correct horse battery staple"
LOGIN = """
mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) {
    token user { email role } errors { field code message }
  }
}
"""


async def create_staff(role: str, email: str | None = None) -> str:
    """A staff account with STAFF_PASSWORD; returns its e-mail."""
    from cms.models import Role
    from cms.services.auth import create_user

    email = email or f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    await create_user(email=email, password=STAFF_PASSWORD, role=Role(role))
    return email


async def login_as(client: GraphQLClient, role: str) -> str:
    """Logs a new staff member of `role` in; the client sends the token from now on."""
    email = await create_staff(role)
    data = await client.data(LOGIN, {"email": email, "password": STAFF_PASSWORD})
    token = data["login"]["token"]
    assert token, data
    client.headers["authorization"] = f"Bearer {token}"
    return token


async def use_api_token(client: GraphQLClient, *scopes: str) -> str:
    from cms.models import TokenScope
    from cms.services.auth import create_api_token

    secret, _ = await create_api_token(
        name=f"integrator-{uuid.uuid4().hex[:6]}",
        scopes=[TokenScope(scope) for scope in scopes],
        created_by=None,
    )
    client.headers["authorization"] = f"Bearer {secret}"
    return secret
