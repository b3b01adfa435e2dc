"""Staff accounts, their login sessions, integrators' API tokens, and the audit log."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from cms.models.base import UtcDatetimeField


class Role(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    AUTHOR = "author"
    VIEWER = "viewer"
    # The head of the office: handles citizens' appeals and may extend their deadline.
    HEAD = "head"


class TokenScope(StrEnum):
    READ = "read"
    READ_DRAFTS = "read_drafts"
    WRITE = "write"


class User(Model):
    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    display_name = fields.CharField(max_length=200)
    role = fields.CharEnumField(Role, max_length=16, default=Role.VIEWER)
    password_hash = fields.CharField(max_length=255, default="")
    is_active = fields.BooleanField(default=True)
    created_at = UtcDatetimeField(auto_now_add=True)
    updated_at = UtcDatetimeField(auto_now=True)
    last_login_at = UtcDatetimeField(null=True)

    class Meta:
        table = "user"


class AuthSession(Model):
    # A login: the bearer token is shown once; only its SHA-256 is stored.
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="sessions", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = UtcDatetimeField(auto_now_add=True)
    expires_at = UtcDatetimeField()
    revoked_at = UtcDatetimeField(null=True)
    last_used_at = UtcDatetimeField(null=True)
    address = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "auth_session"
        indexes = (Index(fields=("user_id", "expires_at")),)


class ApiToken(Model):
    # An integrator's token: shown once at creation, stored as its SHA-256.
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=120)
    token_hash = fields.CharField(max_length=64, unique=True)
    token_prefix = fields.CharField(max_length=16)
    scopes: list[str] = fields.JSONField(default=list)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="api_tokens", null=True, on_delete=fields.SET_NULL
    )
    created_at = UtcDatetimeField(auto_now_add=True)
    last_used_at = UtcDatetimeField(null=True)
    revoked_at = UtcDatetimeField(null=True)

    class Meta:
        table = "api_token"


class AuditEntry(Model):
    # One mutation by staff or a token, successful or not.
    id = fields.IntField(primary_key=True)
    at = UtcDatetimeField(auto_now_add=True)
    actor = fields.CharField(max_length=254)
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    api_token: fields.ForeignKeyNullableRelation[ApiToken] = fields.ForeignKeyField(
        "models.ApiToken", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    action = fields.CharField(max_length=100)
    object_id = fields.CharField(max_length=120, null=True)
    address = fields.CharField(max_length=64, null=True)
    succeeded = fields.BooleanField(default=True)

    class Meta:
        table = "audit_entry"
        indexes = (
            Index(fields=("at", "id")),
            Index(fields=("user_id", "at", "id")),
            Index(fields=("object_id", "at", "id")),
        )
