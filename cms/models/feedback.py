"""Messages from the public feedback form and appeals to the envoy's office."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from cms.models.base import UtcDatetimeField


class FeedbackKind(StrEnum):
    QUESTION = "question"
    APPEAL = "appeal"
    PROPOSAL = "proposal"


class FeedbackStatus(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    SPAM = "spam"
    ARCHIVED = "archived"


class FeedbackMessage(Model):
    id = fields.IntField(primary_key=True)
    ticket = fields.CharField(max_length=32, unique=True)
    kind = fields.CharEnumField(FeedbackKind, max_length=16, default=FeedbackKind.QUESTION)
    name = fields.CharField(max_length=200)
    email = fields.CharField(max_length=254, null=True)
    phone = fields.CharField(max_length=32, null=True)
    subject = fields.CharField(max_length=300, null=True)
    message = fields.TextField()
    feedback_status = fields.CharEnumField(
        FeedbackStatus, max_length=16, default=FeedbackStatus.NEW
    )
    staff_note = fields.TextField(null=True)
    created_at = UtcDatetimeField(auto_now_add=True)
    updated_at = UtcDatetimeField(auto_now=True)

    class Meta:
        table = "feedback_message"
        indexes = (
            Index(fields=("feedback_status", "created_at", "id")),
            Index(fields=("kind", "created_at", "id")),
            Index(fields=("created_at", "id")),
        )
