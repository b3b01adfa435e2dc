"""Tortoise's SQLite engine with the functions of full-text search.

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

import sqlite3
from collections.abc import Sequence
from typing import Any

from tortoise.backends.base.client import NestedTransactionContext, TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import IntegrityError, OperationalError

from cms.services.fulltext import index_text, lexicon_json, search_rank


class _OwnChanges(SqliteClient):
    async def execute_query(
        self, query: str, values: list[Any] | None = None
    ) -> tuple[int, Sequence[dict[str, Any]]]:
        query = query.replace("\x00", "'||CHAR(0)||'")
        try:
            async with self.acquire_connection() as connection:
                self.log.debug("%s: %s", query, values)
                async with connection.execute(query, values) as cursor:
                    rows = list(await cursor.fetchall())
                    # The statement's own rows (-1 for a query that changes none).
                    changed = cursor.rowcount
        except sqlite3.OperationalError as exc:
            raise OperationalError(exc) from exc
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(exc) from exc
        return (changed if changed > 0 else len(rows)), rows


class _SearchingTransaction(_OwnChanges, SqliteTransactionWrapper):
    def _in_transaction(self) -> TransactionContext:
        return NestedTransactionContext(_SearchingTransaction(self))


class SearchingSqliteClient(_OwnChanges):
    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(_SearchingTransaction(self), self._lock)

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


client_class = SearchingSqliteClient
