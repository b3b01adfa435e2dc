"""What a column can hold, read from the Tortoise models: the one source of input limits.

A value a column cannot hold can match no row, and writing it would fail in the
database (PostgreSQL) or store what no lookup finds again; callers ask here first
instead of repeating the numbers.
"""

from __future__ import annotations

from typing import Any

from tortoise.models import Model

from cms.models.declare import Field, Kind


def _constraints(model: type[Model], field: str) -> dict[str, Any]:
    return model._meta.fields_map[field].constraints


def max_length(model: type[Model], field: str) -> int | None:
    """The longest text the column holds (None: unlimited)."""
    value = _constraints(model, field).get("max_length")
    return int(value) if value is not None else None


def length_limit(model: type[Model], item: Field) -> int | None:
    """The longest text a declared field takes: its declared limit, else its column's
    (the value column of the link model for a list of strings)."""
    if item.max_length is not None:
        return item.max_length
    column = item.link_column if item.kind is Kind.STRINGS else item.column
    if column is None or column not in model._meta.fields_map:
        return None
    return max_length(model, column)


def fits(model: type[Model], field: str, value: object) -> bool:
    """Whether `value` fits the column: its length, or its integer range."""
    constraints = _constraints(model, field)
    if isinstance(value, str):
        limit = constraints.get("max_length")
        return limit is None or len(value) <= limit
    if isinstance(value, int) and not isinstance(value, bool):
        low, high = constraints.get("ge"), constraints.get("le")
        return (low is None or value >= low) and (high is None or value <= high)
    return True


def fit_text(model: type[Model], field: str, value: str | None) -> str | None:
    """`value` cut to the column's length: for records of what was sent (the audit
    log, the access log), where a cut value is better than none."""
    limit = max_length(model, field)
    if value is None or limit is None:
        return value
    return value[:limit]
