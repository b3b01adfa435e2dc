"""A closed connection frees everything: its operations, their listeners on the
broker, its place in the per-address count. The server runs in this process (a real
uvicorn on a real socket) so that the broker can be looked at."""

from __future__ import annotations

import asyncio

import httpx

from cms.db import count_statements
from tests.conftest import GraphQLClient, TestDatabase
from tests.editing.helpers import sign_in
from tests.subscriptions.conftest import (
    CONTENT_CHANGED,
    SHALLOW,
    in_process_server,
    live_client,
    subscribed,
    until,
)


async def test_a_closed_connection_frees_everything(db: TestDatabase) -> None:
    async with in_process_server(db) as (base, app):
        broker = app.state.runtime.live
        endpoint = app.state.subscriptions
        # The scheduler of publications listens for good.
        await until(lambda: broker.listener_count == 1, "the scheduler listens")
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            editor = GraphQLClient(http)
            await sign_in(editor, "editor")
            async with (
                live_client(base) as first,
                live_client(base) as second,
                live_client(base) as third,
            ):
                operations = []
                for client in (first, second, third):
                    for _ in range(2):
                        operations.append((client, await client.subscribe(SHALLOW)))
                await subscribed(editor, *operations)
                assert broker.listener_count == 1 + 6
                assert endpoint.open_connections == 3
                # Completing one operation frees its listener.
                await first.complete(operations[0][1])
                await until(lambda: broker.listener_count == 1 + 5, "a completed operation")
                # A client that vanishes without a close handshake.
                third.connection.transport.abort()
                await until(lambda: broker.listener_count == 1 + 3, "an aborted connection")
                await until(lambda: endpoint.open_connections == 2, "an aborted connection")
            await until(lambda: broker.listener_count == 1, "closed connections")
            await until(lambda: endpoint.open_connections == 0, "closed connections")
            assert endpoint.connections == {}


async def test_the_sql_of_an_event_does_not_grow_with_its_subscribers(db: TestDatabase) -> None:
    # Every statement of the server (started inside the block, its tasks inherit it)
    # but the outbox senders', which poll on their own clock.
    with count_statements() as statements:
        async with (
            in_process_server(db, CMS_BACKGROUND_IN_SERVER="off") as (base, _),
            httpx.AsyncClient(base_url=base, timeout=30) as http,
        ):
            editor = GraphQLClient(http)
            await sign_in(editor, "editor")
            async with live_client(base) as public, live_client(base) as more:
                operations = [(public, await public.subscribe(CONTENT_CHANGED))]
                await subscribed(editor, *operations)

                async def one_event() -> int:
                    await asyncio.sleep(0.5)  # the scheduler's own look, after the last
                    before = len(statements)
                    await subscribed(editor, *operations)
                    await asyncio.sleep(0.5)
                    return len(statements) - before

                with_one = await one_event()
                for _ in range(5):
                    operations.append((more, await more.subscribe(CONTENT_CHANGED)))
                await subscribed(editor, *operations)
                with_six = await one_event()
    # The mutation, one load of the item for the public, the scheduler's look.
    assert with_one > 0
    assert with_six == with_one, (with_one, with_six)
