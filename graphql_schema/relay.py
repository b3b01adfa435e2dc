"""Relay building blocks: the Node interface, global IDs, and connections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry

from cms.models.base import ContentModel
from cms.services import columns, surrogate_keys
from cms.services.ids import decode_global_id, encode_global_id
from cms.services.pagination import Ordering, Page, Window, window
from graphql_schema.context import Info
from graphql_schema.errors import bad_input

T = TypeVar("T")
R = TypeVar("R")


# Surrogate keys name what a response holds (cms/services/surrogate_keys.py): `News:12`
# for every object turned into a GraphQL type (recorded by `global_id`, the one place
# every node type's id is made) and `news-list` for every connection of a type and
# every visibility check (so that creating an item voids the lists it may join). They
# are collected into the request's `Context.surrogate_keys` (plain data that the HTTP
# edge reads), made current for the operation by `surrogate_keys.recording`
# (graphql_schema/extensions.py): types are built from rows without the request's `info`.


@strawberry.interface(description="An object with a global, opaque ID.")
class Node:
    id: strawberry.ID


def global_id(type_name: str, pk: int) -> strawberry.ID:
    # Every node type makes its id here from its row: the one place that sees each
    # object a response holds, so it names it for CDN purges (surrogate keys).
    surrogate_keys.record(surrogate_keys.item_key(type_name, pk))
    return strawberry.ID(encode_global_id(type_name, pk))


def parse_global_id(value: str, argument: str = "id") -> tuple[str, int]:
    """(type name, primary key) of a global ID in its canonical form, or a
    BAD_USER_INPUT error: a key no row can have (beyond the id column) is one too."""
    parsed = decode_global_id(value)
    if parsed is None or not columns.fits(ContentModel, "id", parsed[1]):
        shown = value if len(value) <= 60 else value[:60] + "…"
        raise bad_input(argument, f"Некорректный идентификатор {argument}: {shown!r}.")
    return parsed


def parse_typed_id(value: str, type_name: str, argument: str = "id") -> int:
    actual, pk = parse_global_id(value, argument)
    if actual != type_name:
        raise bad_input(
            argument, f"Идентификатор {argument} относится к типу {actual}, а нужен {type_name}."
        )
    return pk


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(name="Edge")
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(name="Connection")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    page: strawberry.Private[Page[Any]]

    @strawberry.field(description="The number of items in the whole list, not this page.")
    async def total_count(self) -> int:
        return await self.page.total_count()


def connection(page: Page[T], convert: Callable[[T], R]) -> Connection[R]:
    # `convert` is a type's `from_row`: the list key names that type, so that a new
    # item purges the lists it may appear in even while they are empty.
    owner = getattr(convert, "__self__", None)
    definition = getattr(owner, "__strawberry_definition__", None)
    if definition is not None:
        surrogate_keys.record(surrogate_keys.list_key(definition.name))
    return connection_of(page, [convert(item) for item in page.items])


def connection_of(page: Page[Any], nodes: list[R]) -> Connection[R]:
    """The connection of a page whose nodes are made already, one per item (loaded
    together, for instance)."""
    return Connection(
        edges=[
            Edge(cursor=cursor, node=node) for node, cursor in zip(nodes, page.cursors, strict=True)
        ],
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
        page=page,
    )


def page_window(
    info: Info,
    ordering: Ordering,
    *,
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
) -> Window:
    """The validated page request of a connection field, sized by the settings."""
    settings = info.context.settings
    return window(
        ordering,
        first=first,
        after=after,
        last=last,
        before=before,
        default_size=settings.page_size_default,
        max_size=settings.page_size_max,
    )
