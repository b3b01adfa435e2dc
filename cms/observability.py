"""What the domain and media tell the operator about, without knowing who listens.

`request_id` is the id of the request being answered (set by the edge's outermost
middleware, web/request_id.py): log lines and masked error answers carry it. `hooks`
are plain callbacks the edge fills in when metrics are on (web/metrics.py); each does
nothing until then, so `cms` and `media` report events without importing the edge.
One application per process registers them (the last one created wins).
"""

from __future__ import annotations

import contextvars
import sys
from collections.abc import Callable
from dataclasses import dataclass

from tortoise.exceptions import (
    DBConnectionError,
    IntegrityError,
    OperationalError,
    TransactionManagementError,
)

# "-" outside a request (background tasks, start-up), so log lines always have one.
NO_REQUEST = "-"
request_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "cms_request_id", default=NO_REQUEST
)


def _nothing() -> None:
    return None


def _nothing_timed(seconds: float) -> None:
    return None


@dataclass
class Hooks:
    # The database refused or lost a statement (not a constraint on bad input).
    database_error: Callable[[], None] = _nothing
    # A Redis call failed (its user fell back to working without Redis).
    redis_error: Callable[[], None] = _nothing
    # An outbox e-mail could not be delivered (retried later, or given up on).
    delivery_failed: Callable[[], None] = _nothing
    # A rendition was made, in this many seconds.
    rendition_made: Callable[[float], None] = _nothing_timed


hooks = Hooks()


def is_database_error(error: BaseException) -> bool:
    """A failure of the database itself (unreachable, timed out, a broken
    transaction), as opposed to a bug or bad input."""
    return isinstance(
        error, DBConnectionError | OperationalError | TransactionManagementError
    ) and not isinstance(error, IntegrityError)


def report_unexpected(error: BaseException) -> None:
    """Counts an unexpected failure by its kind, for the errors the edge masks."""
    if is_database_error(error):
        hooks.database_error()
    elif _is_redis_error(error):
        hooks.redis_error()


def _is_redis_error(error: BaseException) -> bool:
    # redis-py is loaded only where Redis is configured; without it, no error is its.
    exceptions = sys.modules.get("redis.exceptions")
    return exceptions is not None and isinstance(error, exceptions.RedisError)
