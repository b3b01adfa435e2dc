"""Transactions survive tasks cancelled while they begin (a server's background
tasks at shutdown, requests whose clients went away): Tortoise's own contexts kept
the SQLite connection's lock, or a PostgreSQL pool connection, for ever."""

from __future__ import annotations

import asyncio

from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from tests.conftest import TestDatabase


async def test_a_transaction_cancelled_while_beginning_leaves_the_database_usable(
    empty_db: TestDatabase,
) -> None:
    connection = get_connection("default")

    async def transaction() -> None:
        async with in_transaction() as inside:
            await inside.execute_query("SELECT 1")

    # Cancelled at once (while BEGIN runs) and a little later; more times than the
    # PostgreSQL pool has connections (5).
    for delay in (0.0, 0.0001, 0.0005, 0.001, 0.002) * 4:
        task = asyncio.create_task(transaction())
        await asyncio.sleep(delay)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        async with asyncio.timeout(5):  # Tortoise's own contexts waited here for ever
            await connection.execute_query("SELECT 1")
    for _ in range(6):
        async with asyncio.timeout(5), in_transaction() as inside:
            await inside.execute_query("SELECT 1")
