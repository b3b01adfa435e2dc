"""Trusted documents: the GraphQL operations the public endpoint runs when
CMS_TRUSTED_DOCUMENTS is on, registered with `python -m cms register-documents`."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from cms.models.base import UtcDatetimeField


class TrustedDocument(Model):
    id = fields.IntField(primary_key=True)
    # What clients send as `extensions.persistedQuery.sha256Hash` (or `documentId`):
    # the SHA-256 of the text for .graphql files, the manifest's key otherwise.
    document_id = fields.CharField(max_length=128, unique=True)
    # SHA-256 of `body`: the response cache keys documents by it.
    sha256 = fields.CharField(max_length=64, db_index=True)
    body = fields.TextField()
    name = fields.CharField(max_length=200, null=True)  # operation or file name, for people
    created_at = UtcDatetimeField(auto_now_add=True)

    class Meta:
        table = "trusted_document"
