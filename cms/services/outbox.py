"""The one way background work is taken from the database: outbox rows with a due
time (`next_attempt_at`) and a count of `attempts`, claimed with a lease.

Claiming moves a row's due time forward by the lease and counts the attempt, in
one short statement or transaction, before any network I/O; the work then runs
with no transaction or connection held, and its result is written in another
short statement. A process that dies mid-way leaves the row due again when the
lease runs out. On PostgreSQL the rows are picked with `FOR UPDATE SKIP LOCKED`,
so several processes take different rows without waiting on each other; on
SQLite (one writer at a time) each row is taken by a compare-and-set on its
attempts and due time, so that of two processes only one wins it.

Used by the staff and citizens' e-mails (feedback/notifications.py) and by
webhooks (webhooks/delivery.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from tortoise.expressions import F, Q
from tortoise.models import Model
from tortoise.transactions import in_transaction

from cms.db import dialect

M = TypeVar("M", bound=Model)


async def claim(
    model: type[M], pending: Q, *, moment: datetime, lease: timedelta, limit: int
) -> list[M]:
    """Up to `limit` rows that are `pending` and due at `moment`, oldest due first,
    now leased to the caller: each row's `attempts` already counts this attempt."""
    until = moment + lease
    due = model.filter(pending, next_attempt_at__lte=moment).order_by("next_attempt_at", "id")
    if dialect() == "postgres":
        async with in_transaction():
            rows = list(await due.limit(limit).select_for_update(skip_locked=True))
            if rows:
                await model.filter(id__in=[row.pk for row in rows]).update(
                    next_attempt_at=until, attempts=F("attempts") + 1
                )
    else:
        rows = []
        candidates = await due.limit(limit)
        async with in_transaction():  # one commit for the batch
            for row in candidates:
                won = await model.filter(
                    pending,
                    id=row.pk,
                    attempts=row.attempts,  # type: ignore[attr-defined]
                    next_attempt_at__lte=moment,
                ).update(next_attempt_at=until, attempts=F("attempts") + 1)
                if won == 1:
                    rows.append(row)
    for row in rows:
        row.attempts += 1  # type: ignore[attr-defined]
        row.next_attempt_at = until
    return rows


async def release(model: type[Model], pending: Q, rows: Sequence[Any], moment: datetime) -> None:
    """Gives back claims whose work did not happen (the process is stopping): due at
    once again for another process, and the attempt not counted."""
    for row in rows:
        await model.filter(pending, id=row.pk, attempts=row.attempts).update(
            next_attempt_at=moment, attempts=row.attempts - 1
        )


async def seconds_to_next(model: type[Model], pending: Q, moment: datetime, most: float) -> float:
    """How long until the next pending row is due (at most `most`)."""
    upcoming = await model.filter(pending).order_by("next_attempt_at").first()
    if upcoming is None:
        return most
    wait = (upcoming.next_attempt_at - moment).total_seconds()  # type: ignore[attr-defined]
    return min(most, max(0.0, wait))
