"""Every mutation by staff or a token lands in the audit log, whatever its outcome,
in the same transaction as its change.

schema.py attaches AuditMutation to every root mutation field, so that no
mutation can forget it.
"""

from __future__ import annotations

from typing import Any

from strawberry.extensions.field_extension import AsyncExtensionResolver, FieldExtension

from cms.services import audit
from graphql_schema.context import Info
from graphql_schema.relay import Node


def _object_id(arguments: dict[str, Any], result: Any) -> str | None:
    """The item a mutation was about: its `id` argument, or the node it answered with."""
    given = arguments.get("id")
    if isinstance(given, str):
        return given
    for value in vars(result).values() if hasattr(result, "__dict__") else ():
        if isinstance(value, Node):
            return str(value.id)
    return None


class AuditMutation(FieldExtension):
    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any
    ) -> Any:
        def outcome(result: Any) -> tuple[str | None, bool]:
            return _object_id(kwargs, result), not getattr(result, "errors", None)

        return await audit.audited(
            info.context.viewer,
            info.field_name,
            lambda: next_(source, info, **kwargs),
            outcome,
            object_id=_object_id(kwargs, None),
        )
