"""Tortoise's SQLite engine with the functions of full-text search
(and three for the read compiler).

The full-text index of SQLite (cms/services/fulltext.py) is kept by triggers that
stem the text with `cms_search_text()` (and add its words to the lexicon with
`cms_search_words()`) and ranked by `cms_search_rank()`, Python
functions that every connection of the app registers (`cms.db.tortoise_config`
names this engine for sqlite:// URLs). A tool that writes searchable tables through
a connection of its own (the sqlite3 shell) gets "no such function:
cms_search_text" instead of leaving the index stale.

The count of rows a statement changed is SQLite's changes() of that statement:
Tortoise's client reports the difference of total_changes, which counts the rows
its triggers wrote too (an UPDATE of two feedback messages "changed" 18 rows).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import sqlite3
from collections.abc import Sequence
from typing import Any

from tortoise.backends.base.client import (
    NestedTransactionContext,
    TransactionalDBClient,
    TransactionContext,
)
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.connection import get_connections
from tortoise.exceptions import IntegrityError, OperationalError

from cms.services.fulltext import index_text, lexicon_json, search_rank
from cms.services.ids import encode_global_id
from cms.services.richtext import reading_time_minutes


def base64url(text: str) -> str:
    """Unpadded base64url of UTF-8 text: what a cursor is (cms/services/pagination.py)."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _run_statement(
    connection: sqlite3.Connection, query: str, values: list[Any] | None
) -> tuple[int, list[Any]]:
    """On the driver's thread: the rows and the statement's own count of changed rows
    (-1 for a query that changes none)."""
    cursor = connection.execute(query, values or ())
    try:
        rows = cursor.fetchall()
        return cursor.rowcount, rows
    finally:
        cursor.close()


class _OwnChanges(SqliteClient):
    async def execute_query(
        self, query: str, values: list[Any] | None = None
    ) -> tuple[int, Sequence[dict[str, Any]]]:
        query = query.replace("\x00", "'||CHAR(0)||'")
        try:
            async with self.acquire_connection() as connection:
                self.log.debug("%s: %s", query, values)
                # One trip to the driver's thread, not three (execute, fetch, close):
                # under load each trip waits for the thread and then for the loop.
                changed, rows = await connection._execute(
                    _run_statement, connection._conn, query, values
                )
        except sqlite3.OperationalError as exc:
            raise OperationalError(exc) from exc
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(exc) from exc
        return (changed if changed > 0 else len(rows)), rows


class _SearchingTransaction(_OwnChanges, SqliteTransactionWrapper):
    def _in_transaction(self) -> TransactionContext:
        return NestedTransactionContext(_SearchingTransaction(self))


class _CancellableTransactionContext(SqliteTransactionContext):
    """Tortoise's own leaves the connection's lock taken for good when the task is
    cancelled while the transaction begins (`__aexit__` never runs for a failed
    `__aenter__`): every later statement of the process then waits forever. A
    server's background task stopped at shutdown, or a request whose client went
    away, is cancelled at any await, so the lock is given back here."""

    async def __aenter__(self) -> TransactionalDBClient:
        await self._trxlock.acquire()
        try:
            await self.ensure_connection()
            self.token = get_connections().set(self.connection_name, self.connection)
            try:
                await self.connection.begin()
            except BaseException:
                get_connections().reset(self.token)
                # BEGIN may have run in aiosqlite's thread: undo it before another
                # statement takes the connection (a no-op when it did not).
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.shield(self.connection._connection.rollback())
                raise
        except BaseException:
            self._trxlock.release()
            raise
        return self.connection


class SearchingSqliteClient(_OwnChanges):
    def _in_transaction(self) -> TransactionContext:
        return _CancellableTransactionContext(_SearchingTransaction(self), self._lock)

    async def _post_connect(self) -> None:
        await super()._post_connect()
        assert self._connection is not None
        await self._connection.create_function("cms_search_text", 1, index_text, deterministic=True)
        await self._connection.create_function(
            "cms_search_rank", 5, search_rank, deterministic=True
        )
        await self._connection.create_function(
            "cms_search_words", 1, lexicon_json, deterministic=True
        )
        # SQLite has no base64: the read compiler (graphql_schema/compiler) makes
        # global ids, cursors and reading times with the API's own functions.
        await self._connection.create_function(
            "cms_global_id", 2, encode_global_id, deterministic=True
        )
        await self._connection.create_function("cms_base64url", 1, base64url, deterministic=True)
        await self._connection.create_function(
            "cms_reading_time", 1, reading_time_minutes, deterministic=True
        )


client_class = SearchingSqliteClient
