"""Tortoise configuration, migrations, and the per-operation SQL statement counter."""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import get_connection
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as tortoise_migrate
from tortoise.queryset import QuerySet

from cms.settings import load_settings

MODELS_MODULE = "cms.models"
MIGRATIONS_MODULE = "cms.migrations"


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": _connection_config(database_url)},
        "apps": {
            "models": {
                "models": [MODELS_MODULE],
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _connection_config(database_url: str) -> str | dict[str, Any]:
    # SQLite connections register the functions of the full-text triggers
    # (cms/sqlite_engine.py); both engines give their connection back when a task is
    # cancelled while its transaction begins (cms/postgres_engine.py says why).
    config = expand_db_url(database_url)
    engine = {
        "tortoise.backends.sqlite": "cms.sqlite_engine",
        "tortoise.backends.asyncpg": "cms.postgres_engine",
    }.get(config["engine"])
    if engine is None:
        return database_url
    return {**config, "engine": engine}


def __getattr__(name: str) -> Any:
    # The `tortoise` CLI reads `cms.db.TORTOISE_ORM` ([tool.tortoise] in pyproject.toml);
    # computed on access so that importing this module never reads the environment.
    if name == "TORTOISE_ORM":
        return tortoise_config(load_settings().database_url)
    raise AttributeError(name)


def dialect() -> str:
    """'sqlite' or 'postgres', for the few places that need dialect-specific SQL."""
    return get_connection("default").capabilities.dialect


def placeholders(count: int, *, start: int = 1) -> list[str]:
    """Numbered parameter markers of hand-written SQL: `?n` on SQLite, `$n` on PostgreSQL
    (numbered on both, so that one value can serve several places)."""
    mark = "$" if dialect() == "postgres" else "?"
    return [f"{mark}{n}" for n in range(start, start + count)]


async def flat_values(queryset: QuerySet[Any], field: str) -> list[Any]:
    """One column of the matching rows, as a plain list: `values_list(field, flat=True)`,
    which Tortoise's annotations type as a list of tuples whatever `flat` says."""
    values: list[Any] = await queryset.values_list(field, flat=True)
    return values


async def migrate(database_url: str, *, quiet: bool = True) -> None:
    """Apply every migration not yet applied (never `generate_schemas`)."""

    def report(event: str, app_label: str, name: str) -> None:
        if not quiet and event == "apply_done":
            print(f"  applied {app_label}.{name}")

    async with TortoiseContext():
        await tortoise_migrate(config=tortoise_config(database_url), progress=report)


@contextlib.asynccontextmanager
async def database(database_url: str, *, create: bool = False) -> AsyncIterator[TortoiseContext]:
    """An initialised Tortoise context for scripts and the CLI."""
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(database_url), _create_db=create)
        yield ctx


# ---------------------------------------------------------------- statement counting

_SQL_VERBS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "CREATE", "ALTER", "DROP")
# The buckets of every enclosing count_statements() block: a test counting around a
# request and the access log counting inside it both see each statement.
_statement_buckets: contextvars.ContextVar[tuple[list[str], ...]] = contextvars.ContextVar(
    "cms_sql_statements", default=()
)


class _StatementCounter(logging.Handler):
    """Tortoise logs every statement on `tortoise.db_client` at DEBUG; this handler
    appends those of the current operation to a per-task bucket."""

    def emit(self, record: logging.LogRecord) -> None:
        buckets = _statement_buckets.get()
        if not buckets:
            return
        statement = record.args[0] if isinstance(record.args, tuple) and record.args else record.msg
        if isinstance(statement, str) and statement.lstrip()[:6].upper().startswith(_SQL_VERBS):
            for bucket in buckets:
                bucket.append(statement)


class _WithoutValues(logging.Filter):
    """Leaves the values out of Tortoise's statement lines ("%s: %s", statement,
    values) and the parameters out of its connection lines: values are passwords'
    hashes, tokens' digests, citizens' names and contacts. The statement stays, for
    the counter and for DEBUG logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.args, tuple) or not record.args:
            return True
        message = str(record.msg)
        if message == "%s: %s":
            record.msg, record.args = "%s", record.args[:1]
        elif " with params" in message:
            record.msg = message.split(" with params", 1)[0]
            record.args = record.args[: record.msg.count("%s")]
        return True


_counter_handler = _StatementCounter()

# On import, before any connection is made (the server, the CLI, scripts): statements
# are logged without their values, and aiosqlite, which logs every call with its
# arguments at DEBUG, is kept at INFO whatever the level.
logging.getLogger("tortoise.db_client").addFilter(_WithoutValues())
logging.getLogger("aiosqlite").setLevel(logging.INFO)


def install_statement_counter() -> None:
    """Route Tortoise's statement log to the counter only: statements are printed
    only when the log level is DEBUG (and never with their values, above)."""
    db_logger = logging.getLogger("tortoise.db_client")
    if _counter_handler not in db_logger.handlers:
        db_logger.addHandler(_counter_handler)
    db_logger.setLevel(logging.DEBUG)
    db_logger.propagate = logging.getLogger().isEnabledFor(logging.DEBUG)


@contextlib.contextmanager
def count_statements() -> Iterator[list[str]]:
    """Collect the SQL statements issued inside the block (and tasks it starts)."""
    bucket: list[str] = []
    token = _statement_buckets.set((*_statement_buckets.get(), bucket))
    try:
        yield bucket
    finally:
        _statement_buckets.reset(token)
