"""A graphql-transport-ws client over the `websockets` library, and real servers."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import GraphQLClient, TestDatabase, make_settings
from tests.feedback.conftest import free_port
from tests.feedback.test_two_processes import server_process, wait_ready

PROTOCOL = "graphql-transport-ws"
# Long enough for a loaded machine; a message that must not come is awaited shorter.
WAIT = 20.0

CONTENT_CHANGED = """
subscription($kinds: [ContentKind!]) {
  contentChanged(kinds: $kinds) {
    action kind id
    item { id ... on News { title status publishedAt } }
  }
}
"""
SHALLOW = "subscription { contentChanged { action id } }"
NEWS_ITEM_CHANGED = """
subscription($id: ID!) {
  newsItemChanged(id: $id) { action id news { title status } }
}
"""


class ClosedError(Exception):
    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed {code}: {reason}")
        self.code = code
        self.reason = reason


class LiveClient:
    """One graphql-transport-ws connection, as a client library holds it: answers
    the server's pings, keeps each operation's messages apart."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.pings = 0
        self._ids = itertools.count(1)
        self._messages: dict[str, asyncio.Queue[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self.closed: ClosedError | None = None
        self._closed_event = asyncio.Event()

    async def init(self, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """connection_init; the connection_ack, or ClosedError."""
        await self.connection.send(
            json.dumps({"type": "connection_init", "payload": payload or {}})
        )
        try:
            raw = await asyncio.wait_for(self.connection.recv(), WAIT)
        except ConnectionClosed as error:
            raise ClosedError(
                error.rcvd.code if error.rcvd else None, error.rcvd.reason if error.rcvd else ""
            ) from None
        ack = json.loads(raw)
        assert ack["type"] == "connection_ack", ack
        self._reader = asyncio.create_task(self._read())
        return ack

    async def _read(self) -> None:
        try:
            async for raw in self.connection:
                message = json.loads(raw)
                if message["type"] == "ping":
                    self.pings += 1
                    await self.connection.send(json.dumps({"type": "pong"}))
                elif "id" in message:
                    self._queue(message["id"]).put_nowait(message)
        except ConnectionClosed:
            pass
        rcvd = self.connection.close_code, self.connection.close_reason or ""
        self.closed = ClosedError(*rcvd)
        self._closed_event.set()

    def _queue(self, operation_id: str) -> asyncio.Queue[dict[str, Any]]:
        return self._messages.setdefault(operation_id, asyncio.Queue())

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        operation_id = str(next(self._ids))
        self._queue(operation_id)
        payload = {"query": query, "variables": variables or {}}
        await self.connection.send(
            json.dumps({"id": operation_id, "type": "subscribe", "payload": payload})
        )
        return operation_id

    async def complete(self, operation_id: str) -> None:
        await self.connection.send(json.dumps({"id": operation_id, "type": "complete"}))

    async def message(self, operation_id: str, within: float = WAIT) -> dict[str, Any]:
        """The operation's next message (next, error or complete)."""
        return await asyncio.wait_for(self._queue(operation_id).get(), within)

    async def event(self, operation_id: str, within: float = WAIT) -> dict[str, Any]:
        """The data of the operation's next `next` message."""
        message = await self.message(operation_id, within)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        data: dict[str, Any] = message["payload"]["data"]
        return data

    async def nothing_more(self, operation_id: str, seconds: float = 1.0) -> None:
        """No further message comes for the operation within `seconds`."""
        with contextlib.suppress(TimeoutError):
            message = await self.message(operation_id, seconds)
            pytest.fail(f"unexpected message {message}")

    async def wait_closed(self, within: float = WAIT) -> ClosedError:
        """How the server closed the connection."""
        if self._reader is None:  # not initialised: nothing else is expected
            self._reader = asyncio.create_task(self._read())
        await asyncio.wait_for(self._closed_event.wait(), within)
        assert self.closed is not None
        return self.closed


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://", 1) + "/graphql"


@contextlib.asynccontextmanager
async def live_client(
    base: str, payload: dict[str, Any] | None = None, *, init: bool = True, **options: Any
) -> AsyncIterator[LiveClient]:
    async with connect(ws_url(base), subprotocols=[PROTOCOL], **options) as connection:  # type: ignore[list-item]
        client = LiveClient(connection)
        if init:
            await client.init(payload)
        try:
            yield client
        finally:
            if client._reader is not None:
                client._reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await client._reader


def bearer(client: GraphQLClient) -> dict[str, str]:
    """connection_init's payload with the client's token."""
    return {"Authorization": client.headers["authorization"]}


@contextlib.asynccontextmanager
async def running_server(
    database: TestDatabase, log: Path, **environ: str
) -> AsyncIterator[tuple[str, GraphQLClient]]:
    """A uvicorn subprocess over `database`, and a GraphQL client of it over HTTP."""
    env = {
        "CMS_DATABASE_URL": database.url,
        "CMS_SECRET_KEY": "test-secret-key-not-for-production",
        "CMS_RESPONSE_CACHE": "off",
        **environ,
    }
    with server_process(env, log) as (base, process):
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            await wait_ready(http, base, process)
            yield base, GraphQLClient(http)


async def subscribed(editor: GraphQLClient, *operations: tuple[LiveClient, str]) -> None:
    """Returns once each operation listens: graphql-transport-ws does not acknowledge a
    subscription, so a public change to the seed news is made and awaited on each."""
    from cms.models import News
    from graphql_schema.relay import global_id
    from tests.editing.helpers import UPDATE_NEWS, mutate
    from tests.seed_content import NEWS_SLUG

    seed = await News.get(slug=NEWS_SLUG)
    seed_id = global_id("News", seed.pk)
    payload = await mutate(
        editor, UPDATE_NEWS, {"id": seed_id, "input": {"lead": "Обновлено"}, "rev": seed.revision}
    )
    assert payload["errors"] == [], payload
    for client, operation_id in operations:
        data = await client.event(operation_id)
        (event,) = data.values()
        assert event["action"] == "UPDATED", event
        assert event["id"] == seed_id, event


@contextlib.asynccontextmanager
async def in_process_server(
    database: TestDatabase, **environ: str
) -> AsyncIterator[tuple[str, Starlette]]:
    """A real uvicorn on a real socket, in this process: the app can be looked at."""
    from web.app import create_app

    app = create_app(make_settings(database.url, **environ), manage_database=False)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert not task.done(), "the server stopped"
            assert time.monotonic() < deadline, "the server did not start"
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 20
    while not condition():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)
