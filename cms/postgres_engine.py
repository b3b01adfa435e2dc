"""Tortoise's asyncpg engine, with transactions that survive being cancelled.

Tortoise's pooled transaction context takes a connection from the pool, then
begins; a task cancelled during BEGIN never reaches `__aexit__`, so the connection
is never given back. Five such tasks (the pool's size) and every later statement of
the process waits for ever. Background tasks are cancelled at any await when a
server stops, and requests when their clients go away; the connection goes back
to the pool here (asyncpg rolls back what it holds on release).
`cms.db.tortoise_config` names this engine for postgres:// URLs.

Tortoise takes a pooled connection for each statement outside a transaction, and
asyncpg resets a connection when it goes back to the pool: a second round trip
(`SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`) after each
statement, which doubled the round trips of a compiled read (one statement). The app
takes no advisory locks, opens no cursors outside transactions, listens to nothing
and sets no session variables (PostgreSQL's notifications are not used: the
subscriptions go through Redis), so the pool's reset here does nothing; asyncpg
still rolls back a transaction left open and forgets listeners before calling it.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.base.client import (
    TransactionalDBClient,
    TransactionContext,
    TransactionContextPooled,
)
from tortoise.connection import get_connections


class _CancellableTransactionContext(TransactionContextPooled):
    async def __aenter__(self) -> TransactionalDBClient:
        await self.ensure_connection()
        pool = self.client._parent._pool
        self.client._connection = await pool.acquire()
        try:
            self.token = get_connections().set(self.connection_name, self.client)
            try:
                await self.client.begin()
            except BaseException:
                get_connections().reset(self.token)
                raise
        except BaseException:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.shield(pool.release(self.client._connection))
            raise
        return self.client


async def _keep_session(connection: Any) -> None:
    """The pool's reset: nothing to undo (the module's docstring says why)."""


class PostgresClient(AsyncpgDBClient):
    async def create_pool(self, **kwargs: Any) -> Any:
        return await super().create_pool(reset=_keep_session, **kwargs)

    def _in_transaction(self) -> TransactionContext:
        return _CancellableTransactionContext(TransactionWrapper(self), self._pool_init_lock)


client_class = PostgresClient
