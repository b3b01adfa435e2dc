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

Reads on the event loop's thread. Tortoise's client has one aiosqlite connection
and an asyncio.Lock around each statement; aiosqlite runs the statement on its own
thread and hands the rows back through the loop. Under load the loop is busy with
other requests, so both hops wait (for the GIL, then for the loop to come round)
while the lock holds every other request's statements: requests per second fell
with concurrency in earlier measurements (bench/PROFILE.md, item 3), and an open
transaction (which holds the lock) stopped every read. So a read outside a
transaction (SELECT or WITH, sent to the client itself rather than to a
transaction) runs synchronously on a second, stdlib `sqlite3` connection of the
loop's thread: no thread hop, no lock (the task still yields one turn of the loop
first, and lets a write that holds the aiosqlite connection finish first, waiting
up to WRITE_FIRST_SECONDS: `_let_writes_pass` says why). Writes, scripts and
transactions (with the reads inside them) stay on the aiosqlite connection. WAL
(Tortoise's default journal mode) lets one connection read while the other
writes, and each read starts a snapshot of the last commit: a read after an
awaited write sees it, a read while another request's transaction stays open
sees what was committed before it (as on PostgreSQL, where reads outside a
transaction take any pooled connection).

The reader never blocks the loop's thread waiting:
- `query_only`: a WITH that writes fails there before changing anything and runs
  on the aiosqlite connection instead;
- no busy timeout: SQLITE_BUSY or LOCKED (rare in WAL: a recovery, a checkpoint
  that truncates) sends the read to the aiosqlite connection, which waits 5 s;
- a read that has used LOOP_BUDGET_SECONDS of CPU (the thread's time: a
  preempted process is not the statement's fault) is interrupted and run again on
  the aiosqlite thread, and its SQL text is remembered (up to SLOW_STATEMENTS
  texts) so that later runs go there at once. A read therefore holds the loop for
  about LOOP_BUDGET_SECONDS of CPU at most (plus what reading pages from disk
  takes: a database larger than the OS page cache is read on the loop's thread),
  at the price of that much work done twice once per slow statement; the compiled
  statements and Tortoise's lists take under a millisecond to a few at 10k-100k
  news. The first statement of the process, which connects, takes the old path.
Statements inside a transaction run on the loop's thread too, on the aiosqlite
connection itself (opened for use from both threads; the transaction's lock keeps
it to one at a time): a transaction holds that connection for every other writer
of the process, and each trip to the driver's thread waited for the GIL and then
for a busy loop, so a submission's five trips held the one writer through five
turns of the loop. BEGIN IMMEDIATE takes SQLite's write lock on the driver's
thread (where waiting for another process is harmless), so no statement after it
can wait for a lock on the loop's thread; COMMIT (which syncs the WAL to disk) and
ROLLBACK stay there too. A write cannot be interrupted (SQLite would roll the whole
transaction back), so one that used more than LOOP_BUDGET_SECONDS of CPU finishes,
and later runs of its SQL text go to the thread, as slow reads do.
A database that is not a WAL file (`:memory:`, which is private to a connection,
or another journal mode) keeps the old path for every statement.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import aiosqlite
from tortoise.backends.base.client import (
    NestedTransactionContext,
    TransactionalDBClient,
    TransactionContext,
)
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
    translate_exceptions,
)
from tortoise.connection import get_connections
from tortoise.exceptions import IntegrityError, OperationalError, TransactionManagementError

from cms.services.fulltext import index_text, lexicon_json, search_rank
from cms.services.ids import encode_global_id
from cms.services.richtext import excerpt, reading_time_minutes


def base64url(text: str) -> str:
    """Unpadded base64url of UTF-8 text: what a cursor is (cms/services/pagination.py)."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# Not Tortoise's statement log, which the statement counter reads (cms/db.py).
logger = logging.getLogger(__name__)

# Functions every connection registers: (name, number of arguments, function).
_FUNCTIONS: tuple[tuple[str, int, Callable[..., Any]], ...] = (
    ("cms_search_text", 1, index_text),
    ("cms_search_rank", 5, search_rank),
    ("cms_search_words", 1, lexicon_json),
    # SQLite has no base64: the read compiler (graphql_schema/compiler) makes
    # global ids, cursors, reading times and excerpts with the API's own functions.
    ("cms_global_id", 2, encode_global_id),
    ("cms_base64url", 1, base64url),
    ("cms_reading_time", 1, reading_time_minutes),
    ("cms_excerpt", 2, excerpt),
)

LOOP_BUDGET_SECONDS = 0.01
WRITE_FIRST_SECONDS = 0.02
SLOW_STATEMENTS = 256
# How often (in SQLite virtual machine instructions) a read checks its budget.
_BUDGET_CHECK_STEPS = 2000
_T = TypeVar("_T")
# Primary result codes after which a read is run again on the aiosqlite connection.
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_INTERRUPT = 5, 6, 8, 9


def _run_statement(
    connection: sqlite3.Connection, query: str, values: list[Any] | None
) -> tuple[list[Any], int]:
    """The rows of one statement, fetched to the end (an unfinished statement would
    keep its snapshot), and its own count of changed rows (-1 for a query that
    changes none)."""
    cursor = connection.execute(query, values or ())
    try:
        rows = cursor.fetchall()
        return rows, cursor.rowcount
    finally:
        cursor.close()


class _OwnChanges(SqliteClient):
    async def execute_query(
        self, query: str, values: list[Any] | None = None
    ) -> tuple[int, Sequence[dict[str, Any]]]:
        query = query.replace("\x00", "'||CHAR(0)||'")
        self.log.debug("%s: %s", query, values)
        try:
            rows, changed = await self._run(query, values)
        except sqlite3.OperationalError as exc:
            raise OperationalError(exc) from exc
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(exc) from exc
        # The statement's own rows (-1 for a query that changes none).
        return (changed if changed > 0 else len(rows)), rows

    async def execute_query_dict(
        self, query: str, values: list[Any] | None = None
    ) -> list[dict[str, Any]]:
        _, rows = await self.execute_query(query, values)
        return [dict(row) for row in rows]

    async def _run(self, query: str, values: list[Any] | None) -> tuple[list[Any], int]:
        """The rows of one statement and the count of rows it changed."""
        async with self.acquire_connection() as connection:
            # One trip to the driver's thread, not three (execute, fetch, close):
            # under load each trip waits for the thread and then for the loop.
            return await connection._execute(_run_statement, connection._conn, query, values)


def _insert(connection: sqlite3.Connection, query: str, values: list[Any]) -> int:
    """The id of the row one INSERT made."""
    cursor = connection.execute(query, values)
    try:
        return int(cursor.lastrowid or 0)
    finally:
        cursor.close()


def _begin(connection: sqlite3.Connection) -> None:
    """On the driver's thread: what Tortoise's `begin` does in two trips, taking the
    write lock at once (IMMEDIATE) so that the statements of the transaction, which
    run on the loop's thread, never wait for it there."""
    connection.commit()
    connection.execute("BEGIN IMMEDIATE")


class _SearchingTransaction(_OwnChanges, SqliteTransactionWrapper):
    def __init__(self, connection: SqliteClient) -> None:
        super().__init__(connection)
        if isinstance(connection, _SearchingTransaction):  # a savepoint's
            self._client: SearchingSqliteClient = connection._client
        else:
            assert isinstance(connection, SearchingSqliteClient)
            self._client = connection

    def _in_transaction(self) -> TransactionContext:
        return NestedTransactionContext(_SearchingTransaction(self))

    async def _run(self, query: str, values: list[Any] | None) -> tuple[list[Any], int]:
        return await self._call(_run_statement, query, values)

    @translate_exceptions
    async def execute_insert(self, query: str, values: list[Any]) -> int:
        self.log.debug("%s: %s", query, values)
        return await self._call(_insert, query, values)

    async def _call(self, function: Callable[..., _T], query: str, values: list[Any] | None) -> _T:
        """`function(connection, query, values)` on the loop's thread, or on the
        driver's for a database without the loop's reads and a statement that
        overran the budget before."""
        client = self._client
        async with self.acquire_connection() as connection:
            if client._reader is None or query in client._slow:
                return await connection._execute(function, connection._conn, query, values)
            started = time.thread_time()
            try:
                return function(connection._conn, query, values)
            finally:
                if time.thread_time() - started > LOOP_BUDGET_SECONDS:
                    logger.info("a statement over its budget, sent to the thread: %s", query)
                    client.remember_slow(query)

    async def begin(self) -> None:
        # One trip to the driver's thread: a write transaction holds the connection
        # for every other writer of the process, each trip of it included.
        try:
            await self._connection._execute(_begin, self._connection._conn)
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


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
    def __init__(self, file_path: str, **kwargs: Any) -> None:
        super().__init__(file_path, **kwargs)
        self._reader: sqlite3.Connection | None = None
        self._read_deadline = 0.0
        # SQL texts of reads that overran the budget: they go to the aiosqlite thread.
        self._slow: OrderedDict[str, None] = OrderedDict()

    def _in_transaction(self) -> TransactionContext:
        return _CancellableTransactionContext(_SearchingTransaction(self), self._lock)

    async def create_connection(self, with_db: bool) -> None:
        # Tortoise's, with the connection usable from the loop's thread as well
        # (statements inside a transaction run there).
        if self._connection:
            return
        self._connection = await aiosqlite.connect(
            self.filename, isolation_level=None, check_same_thread=False
        )
        self._connection._conn.row_factory = sqlite3.Row
        for pragma, value in self.pragmas.items():
            await self._connection.execute_fetchall(f"PRAGMA {pragma}={value}")
        await self._post_connect()

    async def _post_connect(self) -> None:
        await super()._post_connect()
        assert self._connection is not None
        for name, arguments, function in _FUNCTIONS:
            await self._connection.create_function(name, arguments, function, deterministic=True)
        if self.filename in ("", ":memory:"):
            return
        ((mode,),) = await self._connection.execute_fetchall("PRAGMA journal_mode")
        if str(mode).lower() == "wal":
            self._reader = self._open_reader()

    def _open_reader(self) -> sqlite3.Connection:
        # timeout=0: a busy database answers at once (and the read goes elsewhere)
        # instead of blocking the loop.
        reader = sqlite3.connect(
            self.filename, timeout=0, isolation_level=None, check_same_thread=False
        )
        reader.row_factory = sqlite3.Row
        reader.execute("PRAGMA query_only=ON")
        for name, arguments, function in _FUNCTIONS:
            reader.create_function(name, arguments, function, deterministic=True)
        reader.set_progress_handler(self._over_budget, _BUDGET_CHECK_STEPS)
        return reader

    def _over_budget(self) -> bool:
        return time.thread_time() > self._read_deadline

    def remember_slow(self, query: str) -> None:
        """Later runs of `query` go to the driver's thread."""
        self._slow[query] = None
        if len(self._slow) > SLOW_STATEMENTS:
            self._slow.popitem(last=False)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        await super().close()

    async def _run(self, query: str, values: list[Any] | None) -> tuple[list[Any], int]:
        reader = self._reader
        if reader is not None and query.lstrip()[:4].upper() in ("SELE", "WITH"):
            if query not in self._slow:
                await self._let_writes_pass()
                try:
                    return self._read(reader, query, values), -1
                except sqlite3.OperationalError as exc:
                    code = exc.sqlite_errorcode & 0xFF
                    if code == _SQLITE_INTERRUPT:
                        logger.info("a read over its budget, sent to the thread: %s", query)
                        self.remember_slow(query)
                    elif code not in (_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY):
                        raise
            else:
                self._slow.move_to_end(query)
        return await super()._run(query, values)

    async def _let_writes_pass(self) -> None:
        """Still a point where the loop's other tasks run and where a timeout or a
        cancellation can stop the request, as every statement was before. While the
        aiosqlite connection is taken (a write, a transaction), the read first
        queues behind it for up to WRITE_FIRST_SECONDS: each statement of a write
        needs the loop twice (aiosqlite's thread hands its result back through it),
        and with reads never waiting, a saturated loop ran every ready read between
        those turns (submitFeedback beside 16 connections of reads: 7 req/s instead
        of 47; bench/PROFILE.md, item 3)."""
        if not self._lock.locked():
            await asyncio.sleep(0)
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(WRITE_FIRST_SECONDS), self._lock:
                pass

    def _read(self, reader: sqlite3.Connection, query: str, values: list[Any] | None) -> list[Any]:
        self._read_deadline = time.thread_time() + LOOP_BUDGET_SECONDS
        rows, _ = _run_statement(reader, query, values)
        return rows


client_class = SearchingSqliteClient
