"""Metadata of stored files. The bytes live in a storage backend (see `media/`)."""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from cms.models.base import UtcDatetimeField


class MediaAsset(Model):
    id = fields.IntField(primary_key=True)
    storage_key = fields.CharField(max_length=200)
    sha256 = fields.CharField(max_length=64)
    file_name = fields.CharField(max_length=255)
    mime_type = fields.CharField(max_length=100)
    size = fields.BigIntField()
    width = fields.IntField(null=True)
    height = fields.IntField(null=True)
    alt = fields.TextField(null=True)
    caption = fields.TextField(null=True)
    credit = fields.CharField(max_length=300, null=True)
    placeholder = fields.CharField(max_length=100, null=True)
    created_at = UtcDatetimeField(auto_now_add=True)
    updated_at = UtcDatetimeField(auto_now=True)
    revision = fields.IntField(default=1)
    # Shown to everyone even when no public item uses it (e.g. an image in a body);
    # otherwise an asset is public only through what uses it (cms/services/visibility.py).
    public = fields.BooleanField(default=False)

    class Meta:
        table = "media_asset"
        indexes = (Index(fields=("sha256",)), Index(fields=("created_at", "id")))
