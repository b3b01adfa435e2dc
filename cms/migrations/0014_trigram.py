"""Typo tolerance and feedback search (cms/services/fulltext.py).

The lexicon of the content's words with a trigram index (pg_trgm's GIN on
PostgreSQL, an FTS5 `trigram` table on SQLite), kept by triggers and filled from the
rows that exist; the full-text index of feedback messages (staff search). Also
re-creates the content's index triggers: the searched fields of ActionPlan, Event,
Organization and Person now come from their declarations (the same fields), and on
PostgreSQL punctuation separates words before parsing; the vectors are rebuilt.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops


async def _run(schema_editor, statements):
    for sql in statements:
        if schema_editor.collect_sql:
            schema_editor.collected_sql.append(sql)
        else:
            await schema_editor.client.execute_query(sql)


async def build(apps, schema_editor):
    from cms.services import fulltext

    dialect = schema_editor.DIALECT
    if dialect not in ("sqlite", "postgres"):
        raise NotImplementedError(f"full-text search: nothing for {dialect}")
    statements = fulltext.install_statements(dialect, fulltext.INDEXED_MODELS)
    statements += fulltext.lexicon_statements(dialect)
    for model in fulltext.INDEXED_MODELS:
        # One statement per table: the migration runs in one transaction anyway.
        statements += fulltext.rebuild_statements(dialect, model, 0, 2**31)
    for model in fulltext.SEARCH_MODELS.values():
        statements += fulltext.lexicon_fill_statements(dialect, model, 0, 2**31)
    await _run(schema_editor, statements)


async def drop(apps, schema_editor):
    from cms.models.feedback import FeedbackMessage
    from cms.services import fulltext

    dialect = schema_editor.DIALECT
    statements = fulltext.lexicon_drop_statements(dialect)
    statements += fulltext.drop_statements(dialect, [FeedbackMessage])
    await _run(schema_editor, statements)


class Migration(migrations.Migration):
    dependencies = [('models', '0013_fulltext')]

    initial = False

    operations = [
        ops.RunPython(build, drop),
    ]
