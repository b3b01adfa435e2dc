"""What editors changed: revisions of every editable item, and the slugs it had."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from cms.models.base import UtcDatetimeField


class Revision(Model):
    # A snapshot of an item after a change, numbered like the item's `revision`.
    id = fields.IntField(primary_key=True)
    content_type = fields.CharField(max_length=40)
    object_id = fields.IntField()
    number = fields.IntField()
    author: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    author_id: int | None  # Tortoise's column of the foreign key (typed for mypy)
    author_token: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.ApiToken", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    author_token_id: int | None
    created_at = UtcDatetimeField(auto_now_add=True)
    changed_fields: list[str] = fields.JSONField(default=list)
    snapshot: dict[str, Any] = fields.JSONField(default=dict)

    class Meta:
        table = "revision"
        unique_together = (("content_type", "object_id", "number"),)


class SlugRedirect(Model):
    # An old slug of an item (after a rename or a tag merge) that still resolves to it.
    id = fields.IntField(primary_key=True)
    content_type = fields.CharField(max_length=40)
    slug = fields.CharField(max_length=200)
    object_id = fields.IntField()
    created_at = UtcDatetimeField(auto_now_add=True)

    class Meta:
        table = "slug_redirect"
        unique_together = (("content_type", "slug"),)
        indexes = (Index(fields=("content_type", "object_id")),)
