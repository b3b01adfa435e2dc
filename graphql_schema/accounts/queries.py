"""Root query fields of the accounts area."""

from __future__ import annotations

import strawberry

from cms import models
from cms.services.pagination import Ordering, SortKey, paginate
from cms.services.permissions import Action
from graphql_schema.accounts.types import ApiToken, AuditEntry, User
from graphql_schema.context import Info
from graphql_schema.permissions import require
from graphql_schema.relay import Connection, connection, page_window, parse_typed_id

AUDIT_ORDER = Ordering(
    "audit:at_desc", (SortKey("at", "datetime", True), SortKey("id", "int", True))
)


@strawberry.type
class AccountQueries:
    @strawberry.field(description="The caller; null when anonymous or calling with an API token.")
    async def me(self, info: Info) -> User | None:
        viewer = info.context.viewer
        if viewer.user_id is None:
            return None
        row = await models.User.get_or_none(id=viewer.user_id)
        return User.from_row(row) if row else None

    @strawberry.field(description="Every API token, newest first (admin).")
    async def api_tokens(self, info: Info) -> list[ApiToken]:
        require(info.context.viewer, Action.MANAGE_TOKENS, "Список API-токенов")
        rows = await models.ApiToken.all().order_by("-created_at", "-id")
        return [ApiToken.from_row(row) for row in rows]

    @strawberry.field(description="Every staff account, by e-mail (admin).")
    async def users(self, info: Info) -> list[User]:
        require(info.context.viewer, Action.MANAGE_USERS, "Список пользователей")
        rows = await models.User.all().order_by("email")
        return [User.from_row(row) for row in rows]

    @strawberry.field(description="Mutations by staff and tokens, newest first (staff).")
    async def audit_log(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        actor: strawberry.ID | None = None,
        object_id: strawberry.ID | None = None,
    ) -> Connection[AuditEntry]:
        require(info.context.viewer, Action.READ_HISTORY, "Журнал действий")
        window = page_window(info, AUDIT_ORDER, first=first, after=after)
        queryset = models.AuditEntry.all()
        if actor is not None:
            queryset = queryset.filter(user_id=parse_typed_id(actor, "User", "actor"))
        if object_id is not None:
            queryset = queryset.filter(object_id=object_id)
        return connection(await paginate(queryset, AUDIT_ORDER, window), AuditEntry.from_row)
