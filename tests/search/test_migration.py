"""Migration 0013 builds the index for the content that exists, and goes back cleanly."""

from __future__ import annotations

from tortoise.context import TortoiseContext
from tortoise.migrations.api.migrate import migrate

from cms import db as cms_db
from cms.services import fulltext
from cms.services.viewer import Viewer
from tests.conftest import TestDatabase
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
