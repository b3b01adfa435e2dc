"""New feedback messages indexed after their commit on SQLite (cms/services/fulltext.py,
INDEXED_LATER): their insert trigger notes the id in `feedback_message_fts_waiting`
instead of writing the FTS5 index in the submission's transaction. The rows that
exist are indexed already. PostgreSQL keeps its vector in the row: nothing changes.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops


async def _run(schema_editor, statements):
    for sql in statements:
        if schema_editor.collect_sql:
            schema_editor.collected_sql.append(sql)
        else:
            await schema_editor.client.execute_query(sql)


async def index_later(apps, schema_editor):
    from cms.services import fulltext

    if schema_editor.DIALECT != "sqlite":
        return
    await _run(schema_editor, fulltext.install_statements("sqlite", fulltext.INDEXED_LATER))


async def index_at_once(apps, schema_editor):
    from cms.services import fulltext

    if schema_editor.DIALECT != "sqlite":
        return
    # What waits is indexed first; then the triggers of migration 0014 again.
    statements = []
    for model in fulltext.INDEXED_LATER:
        statements += fulltext.rebuild_statements("sqlite", model, 0, 2**31)
        statements.append(f"DROP TABLE {model._meta.db_table}_fts_waiting")
    statements += fulltext.install_statements("sqlite", fulltext.INDEXED_LATER, indexed_later=())
    await _run(schema_editor, statements)


class Migration(migrations.Migration):
    dependencies = [('models', '0015_webhooks')]

    initial = False

    operations = [
        ops.RunPython(index_later, index_at_once),
    ]
