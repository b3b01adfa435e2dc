"""Full-text search that understands Russian (cms/services/fulltext.py).

PostgreSQL: a weighted `search_vector` tsvector column on every searchable table,
kept by a trigger, with a GIN index. SQLite: an FTS5 table `<table>_fts` of stemmed
text per searchable table, kept by triggers. Both are then filled from the rows that
exist, in batches (`python -m cms reindex` does the same later, e.g. after the
searched fields of a type changed).
"""

from tortoise import migrations
from tortoise.migrations import operations as ops


async def _run(schema_editor, statements):
    for sql in statements:
        if schema_editor.collect_sql:
            schema_editor.collected_sql.append(sql)
        else:
            await schema_editor.client.execute_query(sql)


async def build_index(apps, schema_editor):
    from cms.services import fulltext

    dialect = schema_editor.DIALECT
    if dialect not in ("sqlite", "postgres"):
        raise NotImplementedError(f"full-text search: nothing for {dialect}")
    statements = fulltext.install_statements(dialect)
    for model in fulltext.SEARCH_MODELS.values():
        # One statement per table: the migration runs in one transaction anyway.
        statements += fulltext.rebuild_statements(dialect, model, 0, 2**31)
    await _run(schema_editor, statements)


async def drop_index(apps, schema_editor):
    from cms.services import fulltext

    await _run(schema_editor, fulltext.drop_statements(schema_editor.DIALECT))


class Migration(migrations.Migration):
    dependencies = [('models', '0012_revision_transactions')]

    initial = False

    operations = [
        ops.RunPython(build_index, drop_index),
    ]
