"""Each revision remembers the PostgreSQL transaction that wrote it.

Delta sync (cms/services/sync.py) reads revisions as a change log. Ids are handed
out when rows are inserted, not when they commit, so a reader can see id 11 while
id 10 is still uncommitted. The transaction id lets a reader come back for rows of
transactions that were still running when it read (those with an id at or above the
snapshot's xmin), without any lock on the write path. The column is filled by the
database itself (a default), so writers need no change and no extra statement.
SQLite has one writer at a time: there the column stays empty and unused.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops


def _statements(dialect):
    if dialect == "postgres":
        return [
            "ALTER TABLE revision ADD COLUMN xact BIGINT "
            "DEFAULT (pg_current_xact_id()::text::bigint)",
            "CREATE INDEX revision_xact_idx ON revision (xact)",
        ]
    return ["ALTER TABLE revision ADD COLUMN xact BIGINT"]


def _drop(dialect):
    if dialect == "postgres":
        return ["DROP INDEX IF EXISTS revision_xact_idx", "ALTER TABLE revision DROP COLUMN xact"]
    return ["ALTER TABLE revision DROP COLUMN xact"]


async def _run(schema_editor, statements):
    for sql in statements:
        if schema_editor.collect_sql:
            schema_editor.collected_sql.append(sql)
        else:
            await schema_editor.client.execute_query(sql)


async def add_column(apps, schema_editor):
    await _run(schema_editor, _statements(schema_editor.DIALECT))


async def drop_column(apps, schema_editor):
    await _run(schema_editor, _drop(schema_editor.DIALECT))


class Migration(migrations.Migration):
    dependencies = [('models', '0011_appeals')]

    initial = False

    operations = [
        ops.RunPython(add_column, drop_column),
    ]
