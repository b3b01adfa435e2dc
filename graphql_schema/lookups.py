"""Lookups of one item by `id` or by `slug`, the same way for every type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import strawberry

from graphql_schema.context import BatchFunction, Info
from graphql_schema.errors import bad_input
from graphql_schema.relay import parse_typed_id

R = TypeVar("R")


async def by_id_or_slug(
    info: Info,
    type_name: str,
    *,
    id: str | None,
    slug: str | None,
    by_id: BatchFunction,
    by_slug: BatchFunction,
    convert: Callable[[Any], R],
) -> R | None:
    """Null when nothing visible matches; an error when neither or both are given."""
    if (id is None) == (slug is None):
        raise bad_input("id", "Укажите ровно один аргумент: id или slug.")
    if id is not None:
        row = await info.context.loaders[by_id].load(parse_typed_id(id, type_name))
    else:
        row = await info.context.loaders[by_slug].load(slug)
    return convert(row) if row is not None else None


def lookup_field(
    type_name: str, output: Any, by_id: BatchFunction, by_slug: BatchFunction, description: str
) -> Any:
    """A root field `<item>(id: ID, slug: String): <Type>` that finds one visible item."""

    async def resolve(info: Info, id: strawberry.ID | None = None, slug: str | None = None) -> Any:
        return await by_id_or_slug(
            info, type_name, id=id, slug=slug, by_id=by_id, by_slug=by_slug, convert=output.from_row
        )

    resolve.__annotations__["return"] = output | None
    return strawberry.field(resolver=resolve, description=description)
