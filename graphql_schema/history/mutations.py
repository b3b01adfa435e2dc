"""Mutations of the history area: restoring a revision, restoring from the trash."""

from __future__ import annotations

import strawberry

from cms.services import editing
from cms.services.permissions import Action
from graphql_schema.context import Info
from graphql_schema.editing import editor, payload
from graphql_schema.history.queries import content_type_of
from graphql_schema.history.types import RestorePayload
from graphql_schema.node import NODE_TYPES


@strawberry.type
class HistoryMutations:
    @strawberry.mutation(
        description="Brings back the content and links of an earlier revision as a new "
        "revision (publication is left as it is). Editors; authors on their own drafts."
    )
    async def restore_revision(
        self, info: Info, id: strawberry.ID, revision: int
    ) -> RestorePayload:
        viewer = editor(info, "Восстановление ревизии")
        kind, pk = content_type_of(id)
        write = editing.restore_revision(kind, viewer, pk, revision)
        return await payload(RestorePayload, "node", NODE_TYPES[kind.name][1], write)

    @strawberry.mutation(description="Takes an item out of the trash, whole (admin).")
    async def restore_from_trash(self, info: Info, id: strawberry.ID) -> RestorePayload:
        viewer = editor(info, "Восстановление из корзины", Action.MANAGE_TRASH)
        kind, pk = content_type_of(id)
        write = editing.restore_from_trash(kind, viewer, pk)
        return await payload(RestorePayload, "node", NODE_TYPES[kind.name][1], write)
