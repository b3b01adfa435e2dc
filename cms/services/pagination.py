"""Keyset pagination with opaque cursors, for top-level lists and per-parent lists.

A cursor holds the sort-key values of a row, so the next page is a range scan
on an index, whatever its depth. Every ordering ends with a unique key (`id`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Generic, Literal, TypeVar

from tortoise.connection import get_connection
from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.models import Model
from tortoise.queryset import QuerySet

from cms.errors import InvalidArgumentError
from cms.services.columns import fits as fits_column

M = TypeVar("M", bound=Model)
T = TypeVar("T")  # what a page holds: rows, or entries of several tables (the trash)
# Totals of many parents at once: parent id -> count (missing means 0).
ParentCounts = Callable[[Sequence[Hashable]], Awaitable[dict[Hashable, int]]]
KeyKind = Literal["int", "str", "datetime", "date", "float"]


@dataclass(frozen=True, slots=True)
class SortKey:
    field: str
    kind: KeyKind
    descending: bool = False

    def flipped(self) -> SortKey:
        return SortKey(self.field, self.kind, not self.descending)


@dataclass(frozen=True, slots=True)
class Ordering:
    name: str  # part of every cursor: a cursor of one ordering is refused by another
    keys: tuple[SortKey, ...]

    def reversed(self) -> Ordering:
        return Ordering(self.name, tuple(key.flipped() for key in self.keys))

    def order_by(self) -> list[str]:
        return [f"-{key.field}" if key.descending else key.field for key in self.keys]


@dataclass(frozen=True, slots=True)
class Window:
    """A validated first/after or last/before request."""

    limit: int
    cursor: tuple[Any, ...] | None
    backward: bool


def window(
    ordering: Ordering,
    *,
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
    default_size: int,
    max_size: int,
) -> Window:
    if first is not None and last is not None:
        raise InvalidArgumentError(
            "first", "Укажите first (с after) или last (с before), но не оба."
        )
    if (first is not None and before is not None) or (last is not None and after is not None):
        raise InvalidArgumentError(
            "before" if before is not None else "after",
            "Листайте вперёд с first и after или назад с last и before.",
        )
    backward = last is not None or before is not None
    requested, name = (last, "last") if backward else (first, "first")
    if requested is not None and requested < 0:
        raise InvalidArgumentError(
            name, f"Аргумент {name} не может быть отрицательным ({requested})."
        )
    if requested is not None and requested > max_size:
        raise InvalidArgumentError(
            name, f"Аргумент {name} не может быть больше {max_size} (передано {requested})."
        )
    limit = default_size if requested is None else requested
    raw_cursor = before if backward else after
    cursor = (
        None
        if raw_cursor is None
        else decode_cursor(ordering, raw_cursor, "before" if backward else "after")
    )
    return Window(limit=limit, cursor=cursor, backward=backward)


# ---------------------------------------------------------------- cursors


def encode_cursor(ordering: Ordering, row: Any) -> str:
    values: list[Any] = [ordering.name]
    for key in ordering.keys:
        value = getattr(row, key.field)
        values.append(value.isoformat() if isinstance(value, date) else value)
    raw = json.dumps(values, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(ordering: Ordering, cursor: str, argument: str) -> tuple[Any, ...]:
    error = InvalidArgumentError(argument, f"Курсор {argument} недействителен для этого списка.")
    if len(cursor) > 1000:
        raise error
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise error from None
    if (
        not isinstance(payload, list)
        or len(payload) != len(ordering.keys) + 1
        or payload[0] != ordering.name
    ):
        raise error
    try:
        return tuple(
            _parse(key.kind, value) for key, value in zip(ordering.keys, payload[1:], strict=True)
        )
    except (TypeError, ValueError, OverflowError):
        raise error from None


def check_cursor_fits(model: type[Model], ordering: Ordering, request: Window) -> None:
    """A cursor whose values no column of `model` can hold (an id of 2**31 or more, an
    over-long title) was not made here: refused like any other forged cursor, before
    the database sees it."""
    assert request.cursor is not None
    for key, value in zip(ordering.keys, request.cursor, strict=True):
        if key.field in model._meta.fields_map and not fits_column(model, key.field, value):
            argument = "before" if request.backward else "after"
            raise InvalidArgumentError(
                argument, f"Курсор {argument} недействителен для этого списка."
            )


def _parse(kind: KeyKind, value: Any) -> Any:
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(kind)
        return value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(kind)
        return float(value)
    if not isinstance(value, str):
        raise TypeError(kind)
    if kind == "datetime":
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError(kind)
        moment.astimezone(UTC)  # OverflowError for a moment with no UTC form
        return moment
    if kind == "date":
        return date.fromisoformat(value)
    return value


def after_q(keys: Sequence[SortKey], values: Sequence[Any]) -> Q:
    """Rows strictly after `values` in the order of `keys`.

    The leading key is also bounded on its own (`k1 <= v1`), which lets a database
    start the index scan at the cursor instead of filtering from the top."""
    lead = keys[0]
    bound = Q(**{f"{lead.field}__{'lte' if lead.descending else 'gte'}": values[0]})
    clauses = []
    for i, key in enumerate(keys):
        equal = {k.field: v for k, v in zip(keys[:i], values[:i], strict=True)}
        clauses.append(
            Q(**equal, **{f"{key.field}__{'lt' if key.descending else 'gt'}": values[i]})
        )
    return bound & Q(*clauses, join_type="OR")


# ---------------------------------------------------------------- pages


class Page(Generic[T]):
    """One page of a list. `total_count()` runs its query only when asked."""

    __slots__ = ("_count", "cursors", "has_next_page", "has_previous_page", "items")

    def __init__(
        self,
        items: list[T],
        cursors: list[str],
        *,
        has_next_page: bool,
        has_previous_page: bool,
        count: Callable[[], Awaitable[int]],
    ) -> None:
        self.items = items
        self.cursors = cursors
        self.has_next_page = has_next_page
        self.has_previous_page = has_previous_page
        self._count = count

    async def total_count(self) -> int:
        return await self._count()


async def paginate(
    queryset: QuerySet[M],
    ordering: Ordering,
    request: Window,
    *,
    count: Callable[[], Awaitable[int]] | None = None,
) -> Page[M]:
    """`count` replaces the default COUNT(*) of `queryset` (e.g. a maintained counter)."""
    effective = ordering.reversed() if request.backward else ordering
    rows: list[M] = []
    has_more = False
    if request.limit > 0:
        page_qs = queryset
        if request.cursor is not None:
            check_cursor_fits(queryset.model, ordering, request)
            page_qs = page_qs.filter(after_q(effective.keys, request.cursor))
        rows = list(await page_qs.order_by(*effective.order_by()).limit(request.limit + 1))
        has_more = len(rows) > request.limit
        del rows[request.limit :]
    if request.backward:
        rows.reverse()
    return Page(
        rows,
        [encode_cursor(ordering, row) for row in rows],
        has_next_page=request.cursor is not None if request.backward else has_more,
        has_previous_page=has_more if request.backward else request.cursor is not None,
        count=count or queryset.count,
    )


async def paginate_per_parent(
    queryset: QuerySet[M],
    parent_field: str,
    parent_ids: Sequence[Hashable],
    ordering: Ordering,
    request: Window,
    *,
    count: ParentCounts | None = None,
) -> dict[Hashable, Page[M]]:
    """The same page of a child list for many parents, in two statements whatever
    their number: a window query picks each parent's ids, a second loads the rows.

    `queryset` must already hold the visibility conditions of the children;
    `parent_field` is the lookup from a child to its parent's id. `count` replaces
    the default GROUP BY count of the totals (e.g. maintained counters)."""
    scoped = queryset.filter(**{f"{parent_field}__in": list(parent_ids)})
    keyed = scoped
    if request.cursor is not None:
        check_cursor_fits(queryset.model, ordering, request)
        keyed = keyed.filter(after_q(ordering.keys, request.cursor))
    selected: dict[Hashable, list[Any]] = {parent: [] for parent in parent_ids}
    if request.limit > 0 and parent_ids:
        columns = {f"k{i}": key.field for i, key in enumerate(ordering.keys)}
        values_qs = keyed.values(_pk="id", _parent=parent_field, **columns)
        order_sql = ", ".join(
            f"w.k{i} {'DESC' if key.descending else 'ASC'}" for i, key in enumerate(ordering.keys)
        )
        inner_sql, params = _parameterized_sql(values_qs)
        sql = (
            f"SELECT v._pk AS pk, v._parent AS parent FROM (SELECT w._pk, w._parent, "
            f"ROW_NUMBER() OVER (PARTITION BY w._parent ORDER BY {order_sql}) AS rn "
            f"FROM ({inner_sql}) w) v WHERE v.rn <= {int(request.limit) + 1} "
            f"ORDER BY v._parent, v.rn"
        )
        for row in await get_connection("default").execute_query_dict(sql, params):
            selected[row["parent"]].append(row["pk"])
    wanted = {pk for pks in selected.values() for pk in pks}
    by_id = {row.pk: row for row in await queryset.model.filter(id__in=wanted)} if wanted else {}
    if count is not None:
        counted = count
        counts = _Once(lambda: counted(list(parent_ids)))
    else:
        counts = _Once(lambda: _count_per_parent(scoped, parent_field))
    pages: dict[Hashable, Page[M]] = {}
    for parent, pks in selected.items():
        rows = [by_id[pk] for pk in pks[: request.limit] if pk in by_id]
        pages[parent] = Page(
            rows,
            [encode_cursor(ordering, row) for row in rows],
            has_next_page=len(pks) > request.limit,
            has_previous_page=request.cursor is not None,
            count=_count_getter(counts, parent),
        )
    return pages


async def pages_for_keys(
    queryset: QuerySet[M],
    parent_field: str,
    ordering: Ordering,
    keys: Sequence[tuple[Hashable, Window]],
    *,
    count: ParentCounts | None = None,
) -> list[Page[M]]:
    """DataLoader form of `paginate_per_parent`: keys are (parent id, window) pairs,
    one window query per distinct window (in practice one per field)."""
    by_window: dict[Window, list[Hashable]] = {}
    for parent, request in keys:
        by_window.setdefault(request, []).append(parent)
    pages: dict[tuple[Hashable, Window], Page[M]] = {}
    for request, parents in by_window.items():
        found = await paginate_per_parent(
            queryset, parent_field, parents, ordering, request, count=count
        )
        pages.update({(parent, request): found[parent] for parent in parents})
    return [pages[key] for key in keys]


def _parameterized_sql(queryset: Any) -> tuple[str, list[Any]]:
    # Tortoise has no window functions; the filtered child query (with its
    # visibility conditions) is built by Tortoise and wrapped in one by hand.
    queryset._choose_db_if_not_chosen()
    queryset._make_query()
    sql, params = queryset.query.get_parameterized_sql()
    return sql, list(params)


async def _count_per_parent(scoped: QuerySet[Any], parent_field: str) -> dict[Hashable, int]:
    rows = (
        await scoped.annotate(_n=Count("id", distinct=True))
        .group_by(parent_field)
        .values(parent_field, "_n")
    )
    return {row[parent_field]: row["_n"] for row in rows}


def _count_getter(counts: _Once, parent: Hashable) -> Callable[[], Awaitable[int]]:
    async def total() -> int:
        return (await counts.get()).get(parent, 0)

    return total


class _Once:
    """Runs an async computation at most once, however many pages ask for it."""

    __slots__ = ("_factory", "_task")

    def __init__(self, factory: Callable[[], Awaitable[dict[Hashable, int]]]) -> None:
        self._factory = factory
        self._task: asyncio.Future[dict[Hashable, int]] | None = None

    async def get(self) -> dict[Hashable, int]:
        if self._task is None:
            self._task = asyncio.ensure_future(self._factory())
        return await self._task
