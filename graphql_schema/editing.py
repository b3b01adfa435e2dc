"""What every content mutation shares: reading IDs inside inputs, the update rule
stated once for the SDL, and turning a service call into a payload."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from graphql import GraphQLError
from strawberry.types.unset import UnsetType

from cms.errors import ValidationFailedError
from cms.services.permissions import Action
from cms.services.viewer import Viewer
from graphql_schema.context import Info
from graphql_schema.payloads import DeletePayload, user_errors
from graphql_schema.permissions import require
from graphql_schema.relay import parse_typed_id

P = TypeVar("P")

UPDATE_RULE = (
    "Creating: the required fields must be given. Updating: a field that is absent or "
    "null stays as it is; a list that is given replaces the whole list ([] empties it); "
    "to empty an optional field, name it in `clear`."
)
CLEAR_DESCRIPTION = "Optional fields to empty, by their input names, e.g. [{}]."
UNKNOWN_ID = 0  # matches no row: a malformed or foreign ID in an input is NOT_FOUND


def clear_field_description(names: Sequence[str]) -> str:
    return CLEAR_DESCRIPTION.format(", ".join(f'"{name}"' for name in names))


def plain(value: Any) -> Any:
    """None for an absent (UNSET) or null input value."""
    return None if isinstance(value, UnsetType) else value


def input_id(value: Any, type_name: str) -> int | None:
    value = plain(value)
    if value is None:
        return None
    try:
        return parse_typed_id(str(value), type_name)
    except GraphQLError:
        return UNKNOWN_ID


def input_ids(values: Any, type_name: str) -> list[int] | None:
    values = plain(values)
    if values is None:
        return None
    return [input_id(value, type_name) or UNKNOWN_ID for value in values]


def editor(info: Info, what: str, action: Action = Action.EDIT_CONTENT) -> Viewer:
    """The caller, when its role or scope may do `action` (else a GraphQL error)."""
    viewer = info.context.viewer
    require(viewer, action, what)
    return viewer


async def payload(
    payload_type: Callable[..., P],
    field: str,
    convert: Callable[[Any], Any],
    write: Awaitable[Any],
) -> P:
    """The payload of a write: the converted result, or the UserErrors of bad input."""
    try:
        row = await write
    except ValidationFailedError as error:
        return payload_type(**{field: None, "errors": user_errors(error)})
    return payload_type(**{field: convert(row), "errors": []})


async def deleted(id: str, write: Awaitable[Any]) -> DeletePayload:
    """The payload of a move to the trash."""
    return await payload(DeletePayload, "deleted_id", lambda _: id, write)
