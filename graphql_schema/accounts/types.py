"""Accounts as the API shows them."""

from __future__ import annotations

from datetime import datetime

import strawberry

from cms import models
from graphql_schema.relay import Node, global_id

# Domain enums are the GraphQL enums: strawberry.enum registers the class in place
# (a plain alias, so that annotations stay types for mypy).
Role = models.Role
strawberry.enum(Role, name="Role")
TokenScope = models.TokenScope
strawberry.enum(TokenScope, name="TokenScope")


@strawberry.type
class User(Node):
    id: strawberry.ID
    email: str
    display_name: str
    role: Role
    is_active: bool
    last_login_at: datetime | None

    @classmethod
    def from_row(cls, row: models.User) -> User:
        return cls(
            id=global_id("User", row.pk),
            email=row.email,
            display_name=row.display_name,
            role=row.role,
            is_active=row.is_active,
            last_login_at=row.last_login_at,
        )


@strawberry.type
class ApiToken(Node):
    id: strawberry.ID
    name: str
    scopes: list[TokenScope]
    prefix: str = strawberry.field(description="The first characters, to recognise a token.")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, row: models.ApiToken) -> ApiToken:
        return cls(
            id=global_id("ApiToken", row.pk),
            name=row.name,
            scopes=[models.TokenScope(scope) for scope in row.scopes],
            prefix=row.token_prefix,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )


@strawberry.type
class AuditEntry(Node):
    id: strawberry.ID
    at: datetime
    actor: str = strawberry.field(description="User e-mail or token name.")
    action: str = strawberry.field(description="The mutation's name.")
    object_id: strawberry.ID | None
    address: str | None
    succeeded: bool

    @classmethod
    def from_row(cls, row: models.AuditEntry) -> AuditEntry:
        return cls(
            id=global_id("AuditEntry", row.pk),
            at=row.at,
            actor=row.actor,
            action=row.action,
            object_id=strawberry.ID(row.object_id) if row.object_id else None,
            address=row.address,
            succeeded=row.succeeded,
        )
