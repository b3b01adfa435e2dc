"""The SQLite engine survives tasks cancelled while a transaction begins (a server's
background tasks at shutdown, requests whose clients went away)."""

from __future__ import annotations

import asyncio

import pytest
from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from tests.conftest import TestDatabase


async def test_a_transaction_cancelled_while_beginning_leaves_the_connection_usable(
    empty_db: TestDatabase,
) -> None:
    if empty_db.backend != "sqlite":
        pytest.skip("the lock of the one SQLite connection; PostgreSQL has a pool")
    connection = get_connection("default")

    async def transaction() -> None:
        async with in_transaction() as inside:
            await inside.execute_query("SELECT 1")

    # Cancelled at once (while BEGIN runs in aiosqlite's thread) and a little later.
    for delay in (0.0, 0.0001, 0.0005, 0.001, 0.002) * 4:
        task = asyncio.create_task(transaction())
        await asyncio.sleep(delay)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        async with asyncio.timeout(5):  # Tortoise's own context waited here for ever
            await connection.execute_query("SELECT 1")
    async with asyncio.timeout(5), in_transaction() as inside:
        await inside.execute_query("SELECT 1")
