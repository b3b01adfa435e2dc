"""Maintained counts of live news (all, per tag, per region), kept by triggers.

On PostgreSQL concurrent writers queue on the counter rows they change (exact
counts). A transaction that changes several counters takes their row locks one
after another, so two transactions changing the tags of two live news in opposite
orders at the same moment can deadlock; PostgreSQL then aborts one of them (it
can be retried) and the counters stay exact.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

# ---------------------------------------------------------------- triggers
# The counters are kept by the database itself, so that every writer (the services,
# bulk loads, a psql session) keeps them exact. A news item is *live* when it is
# PUBLISHED, not in the trash and has a publication time; the counters hold live news
# (scheduled ones included: readers subtract those whose moment has not come).
# Links of a live item count for their tag or region; an item becoming live or not
# moves every counter it is in. Written for SQLite and PostgreSQL.

_LIVE = "{row}.status = 'published' AND {row}.deleted_at IS NULL AND {row}.published_at IS NOT NULL"
_LINKS = (("tag", "news_tag", "tag_id"), ("region", "news_region", "region_id"))


def _live(row):
    return "(" + _LIVE.format(row=row) + ")"


def _sqlite_statements():
    upsert = "ON CONFLICT (scope, scope_id) DO UPDATE SET n = n + excluded.n"
    moves = lambda delta: "".join(  # noqa: E731
        f"INSERT INTO news_count (scope, scope_id, n) SELECT '{scope}', {column}, {delta} "
        f"FROM {table} WHERE news_id = NEW.id {upsert}; "
        for scope, table, column in _LINKS
    )
    statements = [
        f"CREATE TRIGGER news_count_news_insert AFTER INSERT ON news WHEN {_live('NEW')} "
        f"BEGIN INSERT INTO news_count (scope, scope_id, n) VALUES ('all', 0, 1) {upsert}; END",
        f"CREATE TRIGGER news_count_news_live AFTER UPDATE OF status, deleted_at, published_at "
        f"ON news WHEN {_live('NEW')} AND NOT {_live('OLD')} "
        f"BEGIN INSERT INTO news_count (scope, scope_id, n) VALUES ('all', 0, 1) {upsert}; "
        f"{moves(1)}END",
        f"CREATE TRIGGER news_count_news_unlive AFTER UPDATE OF status, deleted_at, published_at "
        f"ON news WHEN {_live('OLD')} AND NOT {_live('NEW')} "
        f"BEGIN INSERT INTO news_count (scope, scope_id, n) VALUES ('all', 0, -1) {upsert}; "
        f"{moves(-1)}END",
        # Before the row goes: its links are removed first, while it is still live, so
        # that their own triggers take them off their counters (whatever the order in
        # which the database runs the ON DELETE CASCADE of the links).
        f"CREATE TRIGGER news_count_news_delete BEFORE DELETE ON news WHEN {_live('OLD')} "
        f"BEGIN INSERT INTO news_count (scope, scope_id, n) VALUES ('all', 0, -1) {upsert}; "
        + "".join(f"DELETE FROM {table} WHERE news_id = OLD.id; " for _, table, _ in _LINKS)
        + "END",
    ]
    for scope, table, column in _LINKS:
        live_news = "SELECT 1 FROM news WHERE id = {row}.news_id AND " + _LIVE.format(row="news")
        statements += [
            f"CREATE TRIGGER news_count_{table}_insert AFTER INSERT ON {table} "
            f"WHEN EXISTS ({live_news.format(row='NEW')}) BEGIN INSERT INTO news_count "
            f"(scope, scope_id, n) VALUES ('{scope}', NEW.{column}, 1) {upsert}; END",
            f"CREATE TRIGGER news_count_{table}_delete AFTER DELETE ON {table} "
            f"WHEN EXISTS ({live_news.format(row='OLD')}) BEGIN INSERT INTO news_count "
            f"(scope, scope_id, n) VALUES ('{scope}', OLD.{column}, -1) {upsert}; END",
            f"CREATE TRIGGER news_count_{table}_update AFTER UPDATE OF news_id, {column} "
            f"ON {table} BEGIN "
            f"INSERT INTO news_count (scope, scope_id, n) SELECT '{scope}', OLD.{column}, -1 "
            f"FROM news WHERE id = OLD.news_id AND {_LIVE.format(row='news')} {upsert}; "
            f"INSERT INTO news_count (scope, scope_id, n) SELECT '{scope}', NEW.{column}, 1 "
            f"FROM news WHERE id = NEW.news_id AND {_LIVE.format(row='news')} {upsert}; END",
        ]
    return statements


def _postgres_statements():
    # INSERT .. ON CONFLICT DO UPDATE takes the counter row's lock: concurrent writers
    # queue on it, so the sum stays exact. A link trigger locks its news row (FOR
    # SHARE) before reading whether it is live, so that a concurrent publish either
    # sees the new link or is seen by it, never neither.
    statements = [
        "CREATE FUNCTION news_count_add(p_scope text, p_id integer, p_delta integer) "
        "RETURNS void LANGUAGE sql AS $$ INSERT INTO news_count (scope, scope_id, n) "
        "VALUES (p_scope, p_id, p_delta) ON CONFLICT (scope, scope_id) "
        "DO UPDATE SET n = news_count.n + EXCLUDED.n $$",
        "CREATE FUNCTION news_count_news_insert() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN PERFORM news_count_add('all', 0, 1); RETURN NULL; END $$",
        "CREATE FUNCTION news_count_news_update() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "DECLARE delta integer := CASE WHEN " + _live("NEW") + " THEN 1 ELSE -1 END; "
        "BEGIN PERFORM news_count_add('all', 0, delta); "
        + "".join(
            f"INSERT INTO news_count (scope, scope_id, n) SELECT '{scope}', {column}, delta "
            f"FROM {table} WHERE news_id = NEW.id ORDER BY {column} "
            "ON CONFLICT (scope, scope_id) DO UPDATE SET n = news_count.n + EXCLUDED.n; "
            for scope, table, column in _LINKS
        )
        + "RETURN NULL; END $$",
        "CREATE FUNCTION news_count_news_delete() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN PERFORM news_count_add('all', 0, -1); "
        + "".join(f"DELETE FROM {table} WHERE news_id = OLD.id; " for _, table, _ in _LINKS)
        + "RETURN OLD; END $$",
        f"CREATE TRIGGER news_count_news_insert AFTER INSERT ON news FOR EACH ROW "
        f"WHEN {_live('NEW')} EXECUTE FUNCTION news_count_news_insert()",
        f"CREATE TRIGGER news_count_news_update AFTER UPDATE OF status, deleted_at, "
        f"published_at ON news FOR EACH ROW WHEN ({_live('NEW')} <> {_live('OLD')}) "
        f"EXECUTE FUNCTION news_count_news_update()",
        f"CREATE TRIGGER news_count_news_delete BEFORE DELETE ON news FOR EACH ROW "
        f"WHEN {_live('OLD')} EXECUTE FUNCTION news_count_news_delete()",
    ]
    for scope, table, column in _LINKS:
        statements += [
            f"CREATE FUNCTION news_count_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "DECLARE item record; BEGIN "
            "IF TG_OP IN ('DELETE', 'UPDATE') THEN "
            "SELECT status, deleted_at, published_at INTO item FROM news "
            "WHERE id = OLD.news_id FOR SHARE; "
            f"IF FOUND AND {_live('item')} THEN "
            f"PERFORM news_count_add('{scope}', OLD.{column}, -1); END IF; END IF; "
            "IF TG_OP IN ('INSERT', 'UPDATE') THEN "
            "SELECT status, deleted_at, published_at INTO item FROM news "
            "WHERE id = NEW.news_id FOR SHARE; "
            f"IF FOUND AND {_live('item')} THEN "
            f"PERFORM news_count_add('{scope}', NEW.{column}, 1); END IF; END IF; "
            "RETURN NULL; END $$",
            f"CREATE TRIGGER news_count_{table} AFTER INSERT OR DELETE OR UPDATE OF news_id, "
            f"{column} ON {table} FOR EACH ROW EXECUTE FUNCTION news_count_{table}()",
        ]
    return statements


def _backfill():
    news_live = _LIVE.format(row="news")
    return [
        f"INSERT INTO news_count (scope, scope_id, n) SELECT 'all', 0, COUNT(*) FROM news "
        f"WHERE {news_live}",
        *(
            f"INSERT INTO news_count (scope, scope_id, n) SELECT '{scope}', l.{column}, COUNT(*) "
            f"FROM {table} l JOIN news ON news.id = l.news_id WHERE {news_live} "
            f"GROUP BY l.{column}"
            for scope, table, column in _LINKS
        ),
    ]


def _drop(dialect):
    triggers = [
        ("news", "news_count_news_insert"),
        ("news", "news_count_news_update"),
        ("news", "news_count_news_live"),
        ("news", "news_count_news_unlive"),
        ("news", "news_count_news_delete"),
    ]
    if dialect == "sqlite":
        triggers += [
            (table, f"news_count_{table}_{event}")
            for _, table, _ in _LINKS
            for event in ("insert", "delete", "update")
        ]
        return [f"DROP TRIGGER IF EXISTS {name}" for _, name in triggers]
    triggers += [(table, f"news_count_{table}") for _, table, _ in _LINKS]
    functions = [name for _, name in triggers] + ["news_count_add"]
    return [f"DROP TRIGGER IF EXISTS {name} ON {table}" for table, name in triggers] + [
        f"DROP FUNCTION IF EXISTS {name} CASCADE" for name in functions
    ]


async def _run(schema_editor, statements):
    for sql in statements:
        if schema_editor.collect_sql:
            schema_editor.collected_sql.append(sql)
        else:
            await schema_editor.client.execute_query(sql)


async def create_triggers(apps, schema_editor):
    dialect = schema_editor.DIALECT
    if dialect == "sqlite":
        statements = _sqlite_statements()
    elif dialect == "postgres":
        statements = _postgres_statements()
    else:
        raise NotImplementedError(f"news counters: no triggers for {dialect}")
    await _run(schema_editor, [*statements, *_backfill()])


async def drop_triggers(apps, schema_editor):
    await _run(schema_editor, _drop(schema_editor.DIALECT))


class Migration(migrations.Migration):
    dependencies = [('models', '0005_trusted_documents')]

    initial = False

    operations = [
        ops.CreateModel(
            name='NewsCount',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('scope', fields.CharField(max_length=16)),
                ('scope_id', fields.IntField()),
                ('n', fields.IntField(default=0)),
            ],
            options={'table': 'news_count', 'app': 'models', 'unique_together': (('scope', 'scope_id'),), 'pk_attr': 'id', 'table_description': 'How many news are live (PUBLISHED, not in the trash, with a publication time)'},
            bases=['Model'],
        ),
        ops.RunPython(create_triggers, drop_triggers),
    ]
