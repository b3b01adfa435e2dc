"""The committed migrations are the models: nothing to generate, and they apply twice."""

from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector

from cms import db
from cms.models import News
from tests.conftest import TestDatabase


async def test_models_have_no_changes_without_a_migration(empty_db: TestDatabase) -> None:
    config = db.tortoise_config(empty_db.url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        assert ctx.apps is not None
        writers = await MigrationAutodetector(ctx.apps, config["apps"]).changes()
    pending = [operation for writer in writers for operation in writer.operations]
    assert pending == [], "models changed without a migration: run `tortoise makemigrations`"


async def test_migrating_again_changes_nothing(empty_db: TestDatabase) -> None:
    await db.migrate(empty_db.url)
    assert await News.all().count() == 0
