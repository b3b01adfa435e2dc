"""Messages from the public feedback form and appeals to the envoy's office."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from cms.models.appeals import ConsentChannel
from cms.models.base import SearchableMixin, UtcDatetimeField


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


class FeedbackMessage(SearchableMixin, Model):
    # Personal data: name, email, phone, subject, message, staff_note. Anonymising
    # a message (retention, erasure) empties them and sets `anonymized_at`; the
    # ticket, kind, status and dates stay for statistics.
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
    # Optimistic locking of staff edits, as on content.
    revision = fields.IntField(default=1)
    assigned_to: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    assigned_to_id: int | None
    # When the sender ticked the personal-data consent box.
    consent_at = UtcDatetimeField(null=True)
    # The exact consent document the sender accepted, and through which channel.
    consent_version: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.ConsentDocument", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    consent_channel = fields.CharEnumField(ConsentChannel, max_length=16, null=True)
    # HMAC of the sender's address: tells messages from one source apart without
    # keeping the address itself.
    address_hash = fields.CharField(max_length=64, null=True)
    # HMAC of contact + message text: a repeated submission finds the first one.
    fingerprint = fields.CharField(max_length=64, null=True)
    anonymized_at = UtcDatetimeField(null=True)
    search_text = fields.TextField(default="")

    # Full-text search (cms/services/fulltext.py), by the weight classes of
    # cms.models.declare.SearchWeight; staff with READ_FEEDBACK only.
    search_weights: ClassVar[dict[str, str]] = {
        "ticket": "A",
        "subject": "A",
        "name": "B",
        "email": "B",
        "phone": "B",
        "message": "C",
    }
    search_fields = tuple(search_weights)  # also folded into search_text

    class Meta:
        table = "feedback_message"
        indexes = (
            Index(fields=("feedback_status", "created_at", "id")),
            Index(fields=("kind", "created_at", "id")),
            Index(fields=("created_at", "id")),
            Index(fields=("fingerprint", "created_at")),
            Index(fields=("email",)),
            Index(fields=("phone",)),
            Index(fields=("assigned_to_id", "created_at", "id")),
        )


class FeedbackTicketCounter(Model):
    # The last ticket number given in a year; one row per year, incremented by
    # an upsert inside the submission's transaction (see services/feedback/tickets.py).
    year = fields.IntField(primary_key=True, generated=False)
    last_number = fields.IntField(default=0)

    class Meta:
        table = "feedback_ticket_counter"


class FeedbackNotification(Model):
    # The outbox: one staff e-mail per new message, written in the message's own
    # transaction and sent after the commit by a background task, with retries.
    # A row with an appeal event is a notice to the citizen about that step instead.
    id = fields.IntField(primary_key=True)
    message: fields.ForeignKeyRelation[FeedbackMessage] = fields.ForeignKeyField(
        "models.FeedbackMessage", related_name=False, on_delete=fields.CASCADE
    )
    message_id: int  # Tortoise's column of the foreign key (typed for mypy)
    event: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.AppealEvent", related_name=False, null=True, on_delete=fields.CASCADE
    )
    created_at = UtcDatetimeField(auto_now_add=True)
    # Due time; a sender claims a row by moving it forward (a lease), so several
    # server processes never send the same row at once.
    next_attempt_at = UtcDatetimeField()
    attempts = fields.IntField(default=0)
    sent_at = UtcDatetimeField(null=True)
    failed_at = UtcDatetimeField(null=True)  # gave up after the last attempt
    last_error = fields.CharField(max_length=300, null=True)

    class Meta:
        table = "feedback_notification"
        indexes = (Index(fields=("sent_at", "failed_at", "next_attempt_at")),)
