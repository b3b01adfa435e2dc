"""Revisions and the trash as the API shows them."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from cms import models
from cms.services.trash import TrashEntry
from graphql_schema.accounts.dataloaders import token_name_by_id, user_by_id
from graphql_schema.accounts.types import User
from graphql_schema.context import Info
from graphql_schema.node import NODE_TYPES
from graphql_schema.payloads import UserError
from graphql_schema.relay import Node


async def _user(info: Info, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    row = await info.context.loaders[user_by_id].load(user_id)
    return User.from_row(row) if row else None


@strawberry.type(description="The state of an item after one change.")
class Revision:
    number: int = strawberry.field(description="The item's `revision` after the change.")
    created_at: datetime
    changed_fields: list[str] = strawberry.field(description="Input names of what changed.")
    snapshot: JSON = strawberry.field(
        description="The item with its links: {fields: {...}, links: {...}}."
    )
    author_id: strawberry.Private[int | None]
    author_token_id: strawberry.Private[int | None]

    @strawberry.field(description="The staff member who made the change.")
    async def author(self, info: Info) -> User | None:
        return await _user(info, self.author_id)

    @strawberry.field(description="The API token that made the change, by name.")
    async def api_token_name(self, info: Info) -> str | None:
        if self.author_token_id is None:
            return None
        return await info.context.loaders[token_name_by_id].load(self.author_token_id)

    @classmethod
    def from_row(cls, row: models.Revision) -> Revision:
        return cls(
            number=row.number,
            created_at=row.created_at,
            changed_fields=list(row.changed_fields),
            snapshot=JSON(row.snapshot),
            author_id=row.author_id,
            author_token_id=row.author_token_id,
        )


@strawberry.type(description="A deleted item, until it is restored or purged.")
class TrashItem:
    node: Node = strawberry.field(description="The deleted item, readable by admins.")
    content_type: str
    title: str
    deleted_at: datetime
    deleted_by_id: strawberry.Private[int | None]

    @strawberry.field
    async def deleted_by(self, info: Info) -> User | None:
        return await _user(info, self.deleted_by_id)

    @classmethod
    def from_entry(cls, entry: TrashEntry) -> TrashItem:
        _, convert = NODE_TYPES[entry.kind.name]
        return cls(
            node=convert(entry.item),
            content_type=entry.kind.name,
            title=entry.title,
            deleted_at=entry.deleted_at,
            deleted_by_id=entry.item.deleted_by_id,
        )


@strawberry.type
class RestorePayload:
    node: Node | None
    errors: list[UserError]
