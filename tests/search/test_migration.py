"""Migrations 0013 and 0014 build the index and the lexicon for the content that
exists, 0016 indexes new feedback after its commit on SQLite; they go back cleanly."""

from __future__ import annotations

import pytest
from tortoise.context import TortoiseContext
from tortoise.migrations.api.migrate import migrate

from cms import db as cms_db
from cms.services import fulltext
from cms.services.viewer import Viewer
from tests.conftest import BACKEND, TestDatabase
from tests.seed_content import NEWS_SLUG


async def _migrate_to(url: str, target: str | None) -> None:
    async with TortoiseContext():
        await migrate(config=cms_db.tortoise_config(url), target=target)


async def test_the_migration_indexes_existing_content(db: TestDatabase) -> None:
    await _migrate_to(db.url, "models.0012_revision_transactions")
    async with cms_db.database(db.url):
        connection = cms_db.get_connection("default")
        if cms_db.dialect() == "postgres":
            _, rows = await connection.execute_query(
                "SELECT count(*) AS n FROM information_schema.columns "
                "WHERE table_name = 'news' AND column_name = 'search_vector'"
            )
        else:
            _, rows = await connection.execute_query(
                "SELECT count(*) AS n FROM sqlite_master WHERE name LIKE '%\\_fts%' ESCAPE '\\'"
            )
        assert rows[0]["n"] == 0
    await _migrate_to(db.url, None)
    async with cms_db.database(db.url):
        page = await fulltext.search(Viewer(), "сотрудничестве", kinds=["News"])
        assert [hit.item.slug for hit in page.hits] == [NEWS_SLUG]


async def test_migration_0014_builds_the_lexicon_and_the_feedback_index(db: TestDatabase) -> None:
    from cms.models import FeedbackMessage, Role

    async with cms_db.database(db.url):
        await FeedbackMessage.create(ticket="Q-1", name="Анна Ёлкина", message="О сотрудничестве")
    await _migrate_to(db.url, "models.0013_fulltext")
    async with cms_db.database(db.url):
        connection = cms_db.get_connection("default")
        _, rows = await connection.execute_query(
            "SELECT count(*) AS n FROM sqlite_master WHERE name LIKE 'search_lexicon%'"
            if cms_db.dialect() == "sqlite"
            else "SELECT count(*) AS n FROM pg_tables WHERE tablename = 'search_lexicon'"
        )
        assert rows[0]["n"] == 0
    await _migrate_to(db.url, None)
    async with cms_db.database(db.url):
        page = await fulltext.search(Viewer(), "сотрудничестве", kinds=["News"])
        assert [hit.item.slug for hit in page.hits] == [NEWS_SLUG]
        assert (await fulltext.search(Viewer(), "сатрудничество")).suggestion == "сотрудничество"
        staff = Viewer(user_id=1, role=Role.EDITOR)
        found = await FeedbackMessage.filter(fulltext.feedback_q(staff, "елкиной", "search"))
        assert [row.ticket for row in found] == ["Q-1"]


async def test_migration_0016_indexes_new_feedback_later_and_goes_back(db: TestDatabase) -> None:
    if BACKEND != "sqlite":
        pytest.skip("PostgreSQL keeps the vector in the row: 0016 changes nothing there")
    from cms.models import FeedbackMessage

    async def rowids(sql: str) -> list[int]:
        _, rows = await cms_db.get_connection("default").execute_query(sql)
        return [int(row[0]) for row in rows]

    indexed = "SELECT rowid FROM feedback_message_fts ORDER BY rowid"
    waiting = "SELECT id FROM feedback_message_fts_waiting ORDER BY id"
    async with cms_db.database(db.url):
        first = await FeedbackMessage.create(ticket="Q-1", name="Анна", message="Вопрос")
        assert (await rowids(indexed), await rowids(waiting)) == ([], [first.pk])
    await _migrate_to(db.url, "models.0015_webhooks")
    async with cms_db.database(db.url):
        # Back: what waited is indexed, and a new message is indexed at once.
        assert await rowids(indexed) == [first.pk]
        assert (
            await rowids("SELECT 1 FROM sqlite_master WHERE name = 'feedback_message_fts_waiting'")
            == []
        )
        second = await FeedbackMessage.create(ticket="Q-2", name="Пётр", message="Вопрос")
        assert await rowids(indexed) == [first.pk, second.pk]
    await _migrate_to(db.url, None)
    async with cms_db.database(db.url):
        third = await FeedbackMessage.create(ticket="Q-3", name="Ольга", message="Вопрос")
        assert (await rowids(indexed), await rowids(waiting)) == (
            [first.pk, second.pk],
            [third.pk],
        )
