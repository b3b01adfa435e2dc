"""Ticket numbers FB-<year>-<6 digits>: one counter row per year, incremented atomically.

The increment is a single upsert (INSERT ... ON CONFLICT DO UPDATE ... RETURNING),
run inside the submission's transaction:
- on PostgreSQL the updated row stays locked until that transaction ends, so
  concurrent submissions take numbers one after another, and a rolled-back
  submission gives its number back (no gaps from refused or collapsed ones);
  ON CONFLICT makes the first submission of a year safe against a concurrent one;
- on SQLite the upsert is the transaction's first write, which takes the
  database's single write lock until commit (and the ticket column is UNIQUE
  on both, as the last line of defence).
The lock also serialises the duplicate check that follows it (see submission.py).
"""

from __future__ import annotations

from typing import Any, Literal

from cms.db import placeholders

# Appeals' registration numbers take theirs the same way, from their own counter.
CounterTable = Literal["feedback_ticket_counter", "appeal_number_counter"]
_UPSERT = (
    "INSERT INTO {table} (year, last_number) VALUES ({year}, 1) "
    "ON CONFLICT (year) DO UPDATE SET last_number = {table}.last_number + 1 "
    "RETURNING last_number"
)


def format_ticket(year: int, number: int) -> str:
    return f"FB-{year}-{number:06d}"


async def next_number(connection: Any, table: CounterTable, year: int) -> int:
    """The next number of `year` in `table`; `connection` is the caller's open
    transaction, which holds the counter's lock until it ends."""
    (placeholder,) = placeholders(1)
    rows = await connection.execute_query_dict(
        _UPSERT.format(table=table, year=placeholder), [year]
    )
    return int(rows[0]["last_number"])


async def next_ticket(connection: Any, year: int) -> str:
    """The next ticket of `year`; `connection` is the submission's open transaction."""
    return format_ticket(year, await next_number(connection, "feedback_ticket_counter", year))
