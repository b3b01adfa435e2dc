"""Reads outside a transaction beside writes and transactions, on both databases.

On SQLite they run on a second connection of the loop's thread
(cms/sqlite_engine.py): they must see every committed write, never wait for an
open transaction, and never see its rows before it commits; reads inside the
transaction see them. The statements inside a transaction run on the loop's thread
too (only BEGIN and COMMIT take the driver's thread)."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import aiosqlite
import pytest
from tortoise.connection import get_connection
from tortoise.exceptions import IntegrityError, OperationalError
from tortoise.transactions import in_transaction

from cms import sqlite_engine
from cms.models import Tag
from tests.conftest import BACKEND, TestDatabase

sqlite_only = pytest.mark.skipif(
    BACKEND != "sqlite", reason="SQLite's own engine (cms/sqlite_engine.py)"
)


async def _tag_names() -> list[str]:
    _, rows = await get_connection("default").execute_query("SELECT name FROM tag ORDER BY name")
    return [row["name"] for row in rows]


async def test_a_read_after_a_committed_write_sees_it(empty_db: TestDatabase) -> None:
    await Tag.create(slug="first", name="Первый")
    assert await _tag_names() == ["Первый"]
    async with in_transaction():
        await Tag.create(slug="second", name="Второй")
    assert await _tag_names() == ["Второй", "Первый"]
    await get_connection("default").execute_query(
        "UPDATE tag SET name = 'Третий' WHERE slug = 'first'"
    )
    assert await Tag.filter(slug="first").values_list("name", flat=True) == ["Третий"]


async def test_an_open_transaction_is_seen_inside_and_not_outside_until_it_commits(
    empty_db: TestDatabase,
) -> None:
    await Tag.create(slug="old", name="Старый")
    inserted = asyncio.Event()
    release = asyncio.Event()

    async def writer() -> None:
        async with in_transaction() as inside:
            await Tag.create(slug="new", name="Новый", using_db=inside)
            _, rows = await inside.execute_query("SELECT name FROM tag ORDER BY name")
            assert [row["name"] for row in rows] == ["Новый", "Старый"]
            inserted.set()
            await release.wait()

    task = asyncio.create_task(writer())
    await inserted.wait()
    # Many reads side by side while the transaction is open: none errs, none waits
    # for it (on SQLite they waited for the connection's lock), none sees its row.
    async with asyncio.timeout(5):
        answers = await asyncio.gather(*(_tag_names() for _ in range(20)))
    assert answers == [["Старый"]] * 20
    assert not await Tag.filter(slug="new").exists()
    release.set()
    await task
    assert await _tag_names() == ["Новый", "Старый"]


async def test_a_statement_beginning_with_with_may_write(empty_db: TestDatabase) -> None:
    await get_connection("default").execute_query(
        "WITH source(slug, name) AS (VALUES ('with', 'Через WITH')) "
        "INSERT INTO tag (slug, name, search_text, revision, created_at, updated_at) "
        "SELECT slug, name, '', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM source"
    )
    assert await _tag_names() == ["Через WITH"]


@sqlite_only
async def test_reads_outside_a_transaction_take_the_second_connection(
    empty_db: TestDatabase,
) -> None:
    client = get_connection("default")
    assert isinstance(client, sqlite_engine.SearchingSqliteClient)
    await client.execute_query("SELECT 1")  # the client connects on its first statement
    assert client._reader is not None
    # The NUL escaping of Tortoise's client, and the functions of the compiler.
    _, rows = await client.execute_query("SELECT 'a' || CHAR(0) || 'b' AS v, 'c\x00d' AS w")
    assert (rows[0]["v"], rows[0]["w"]) == ("a\x00b", "c\x00d")
    _, rows = await client.execute_query("SELECT cms_base64url('ok') AS v")
    assert rows[0]["v"] == "b2s"
    assert await client.execute_query_dict("SELECT 1 AS one") == [{"one": 1}]
    with pytest.raises(OperationalError, match="no such table"):
        await client.execute_query("SELECT * FROM no_such_table")


@sqlite_only
async def test_a_read_over_its_budget_finishes_on_the_thread_and_goes_there_next_time(
    empty_db: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = get_connection("default")
    assert isinstance(client, sqlite_engine.SearchingSqliteClient)
    await client.execute_query("SELECT 1")
    monkeypatch.setattr(sqlite_engine, "LOOP_BUDGET_SECONDS", 0.0)
    query = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) "
        "SELECT sum(i) AS total FROM n"
    )
    for _ in range(2):
        _, rows = await client.execute_query(query)
        assert rows[0]["total"] == 200000 * 200001 // 2
        assert query in client._slow


@sqlite_only
async def test_a_read_lets_a_write_under_way_finish_first(
    empty_db: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A read that comes while the aiosqlite connection is taken queues behind the
    # write (WRITE_FIRST_SECONDS, long here so that a slow machine cannot skip it),
    # so it sees what that write commits.
    monkeypatch.setattr(sqlite_engine, "WRITE_FIRST_SECONDS", 5.0)
    await _tag_names()
    began = asyncio.Event()

    async def writer() -> None:
        async with in_transaction() as inside:
            began.set()
            await asyncio.sleep(0.05)
            await Tag.create(slug="late", name="Поздний", using_db=inside)

    task = asyncio.create_task(writer())
    await began.wait()
    assert await _tag_names() == ["Поздний"]
    await task


class _BusyReader:
    """A reader refused by a lock (SQLITE_BUSY, as during a WAL recovery)."""

    def execute(self, *args: object) -> sqlite3.Cursor:
        error = sqlite3.OperationalError("database is locked")
        error.sqlite_errorcode = 5
        raise error


@sqlite_only
async def test_a_busy_reader_sends_the_read_to_the_other_connection(
    empty_db: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = get_connection("default")
    assert isinstance(client, sqlite_engine.SearchingSqliteClient)
    await Tag.create(slug="seen", name="Видно")
    monkeypatch.setattr(client, "_reader", _BusyReader())
    assert await _tag_names() == ["Видно"]


async def test_a_database_in_memory_keeps_one_connection() -> None:
    if BACKEND != "sqlite":
        pytest.skip("SQLite's own reader")
    client = sqlite_engine.SearchingSqliteClient(":memory:", connection_name="memory")
    try:
        await client.create_connection(with_db=True)
        assert client._reader is None
        await client.execute_script("CREATE TABLE t (v TEXT)")
        await client.execute_query("INSERT INTO t VALUES ('в памяти')")
        _, rows = await client.execute_query("SELECT v, cms_base64url(v) AS b FROM t")
        assert rows[0]["v"] == "в памяти"
    finally:
        await client.close()


# ---------------------------------------------------------------- statements of a transaction


class _Trips:
    """Counts the functions sent to aiosqlite's thread."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = aiosqlite.Connection._execute

        async def counted(connection: aiosqlite.Connection, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return await original(connection, *args, **kwargs)

        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)


@sqlite_only
async def test_a_transaction_takes_two_trips_to_the_thread_whatever_its_statements(
    empty_db: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _tag_names()  # connected
    trips = _Trips(monkeypatch)
    async with in_transaction() as inside:
        tag = await Tag.create(slug="one", name="Один", using_db=inside)
        await Tag.filter(pk=tag.pk).using_db(inside).update(name="Первый")
        _, rows = await inside.execute_query("SELECT name FROM tag")
        assert [row["name"] for row in rows] == ["Первый"]
        await Tag.create(slug="two", name="Второй", using_db=inside)
    assert trips.count == 2  # BEGIN IMMEDIATE, COMMIT
    assert await _tag_names() == ["Второй", "Первый"]


@sqlite_only
async def test_an_error_inside_a_transaction_rolls_it_back(empty_db: TestDatabase) -> None:
    await Tag.create(slug="taken", name="Занято")

    async def duplicate() -> None:
        async with in_transaction() as inside:
            await Tag.create(slug="kept-out", name="Не сохранится", using_db=inside)
            await Tag.create(slug="taken", name="Ещё раз", using_db=inside)

    async def no_table() -> None:
        async with in_transaction() as inside:
            await inside.execute_query("UPDATE no_such_table SET x = 1")

    with pytest.raises(IntegrityError):
        await duplicate()
    assert await _tag_names() == ["Занято"]
    with pytest.raises(OperationalError, match="no such table"):
        await no_table()
    # The connection is free again for the next writer.
    await Tag.create(slug="next", name="Следующий")
    assert await _tag_names() == ["Занято", "Следующий"]


@sqlite_only
async def test_a_transaction_holds_the_write_lock_from_its_start(empty_db: TestDatabase) -> None:
    # BEGIN IMMEDIATE: no statement of the transaction, run on the loop's thread, can
    # then wait there for another process's write.
    client = get_connection("default")
    assert isinstance(client, sqlite_engine.SearchingSqliteClient)
    await _tag_names()
    other = sqlite3.connect(client.filename, timeout=0, isolation_level=None)
    try:
        async with in_transaction():
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


@sqlite_only
async def test_a_write_over_its_budget_finishes_and_goes_to_the_thread_next_time(
    empty_db: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = get_connection("default")
    assert isinstance(client, sqlite_engine.SearchingSqliteClient)
    await _tag_names()
    monkeypatch.setattr(sqlite_engine, "LOOP_BUDGET_SECONDS", 0.0)
    statement = (
        "INSERT INTO tag (slug, name, search_text, revision, created_at, updated_at) "
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) "
        "SELECT 'tag-' || i, 'Метка ' || i, '', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM n"
    )
    trips = _Trips(monkeypatch)
    for expected_trips in (2, 4):
        trips.count = 0
        async with in_transaction() as inside:
            # Not interrupted (SQLite would roll the whole transaction back).
            count, _ = await inside.execute_query(statement)
            assert count == 20000
            assert statement in client._slow
            await inside.execute_query("DELETE FROM tag")
        # BEGIN and COMMIT; the next time, both statements (over the budget) too.
        assert trips.count == expected_trips
