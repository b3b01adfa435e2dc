"""Appeals of citizens (59-FZ) and the consent document (152-FZ).

An appeal is a FeedbackMessage of kind APPEAL with an `Appeal` row beside it: its
registration number, deadlines, state and the history of what staff did. The
message keeps the sender's personal data; anonymising the message (erasure,
retention) leaves the appeal's registration data, which the office must keep.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from cms.models.base import UtcDatetimeField


class AppealState(StrEnum):
    RECEIVED = "received"  # stored, not registered yet (manual registration)
    REGISTERED = "registered"
    IN_REVIEW = "in_review"
    ANSWERED = "answered"
    FORWARDED = "forwarded"  # sent to the body competent to answer (art. 8 p. 3)
    LEFT_WITHOUT_ANSWER = "left_without_answer"  # art. 11
    WITHDRAWN = "withdrawn"  # by the citizen


# States in which the office still owes something: they have a running deadline.
OPEN_STATES = (AppealState.RECEIVED, AppealState.REGISTERED, AppealState.IN_REVIEW)


class NoAnswerReason(StrEnum):
    """The grounds of 59-FZ art. 11 for leaving an appeal without an answer on the merits."""

    NO_NAME_OR_ADDRESS = "no_name_or_address"  # p. 1: no name or address for the answer
    OFFENSIVE_LANGUAGE = "offensive_language"  # p. 3: obscene or insulting language
    UNREADABLE = "unreadable"  # p. 4: the text cannot be read
    UNCLEAR_ESSENCE = "unclear_essence"  # p. 4.1: the text does not show what is asked
    REPEATED_QUESTION = "repeated_question"  # p. 5: the same question, answered before


class AppealAction(StrEnum):
    RECEIVED = "received"
    REGISTERED = "registered"
    REVIEW_STARTED = "review_started"
    EXTENDED = "extended"
    ANSWERED = "answered"
    FORWARDED = "forwarded"
    LEFT_WITHOUT_ANSWER = "left_without_answer"
    WITHDRAWN = "withdrawn"


class ConsentChannel(StrEnum):
    """How the consent reached the office."""

    WEB_FORM = "web_form"
    MOBILE_APP = "mobile_app"


class ConsentDocument(Model):
    # One version of the consent to the processing of personal data. A published
    # version is never changed: a new text is a new version, and every submission
    # points at the version its sender accepted.
    id = fields.IntField(primary_key=True)
    version = fields.IntField(unique=True)
    title = fields.CharField(max_length=300)
    text = fields.TextField()
    created_at = UtcDatetimeField(auto_now_add=True)
    created_by: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    published_at = UtcDatetimeField(null=True)

    class Meta:
        table = "consent_document"
        indexes = (Index(fields=("published_at", "version")),)


class Appeal(Model):
    id = fields.IntField(primary_key=True)
    message: fields.OneToOneRelation[Any] = fields.OneToOneField(
        "models.FeedbackMessage", related_name="appeal", on_delete=fields.CASCADE
    )
    number = fields.CharField(max_length=64, unique=True, null=True)
    state = fields.CharEnumField(AppealState, max_length=24, default=AppealState.RECEIVED)
    received_at = UtcDatetimeField()
    # Dates are the office's calendar days (CMS_APPEAL_TIMEZONE).
    registration_due_on = fields.DateField()
    registered_at = UtcDatetimeField(null=True)
    due_on = fields.DateField(null=True)  # the answer's, once registered
    # The deadline running now: registration_due_on until registration, then due_on;
    # what the staff queue sorts and filters by.
    deadline_on = fields.DateField()
    extended_days = fields.IntField(null=True)
    extension_reason = fields.TextField(null=True)
    extended_at = UtcDatetimeField(null=True)
    extended_by: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    closed_at = UtcDatetimeField(null=True)  # answered, forwarded, left or withdrawn
    no_answer_reason = fields.CharEnumField(NoAnswerReason, max_length=32, null=True)
    forwarded_to = fields.CharField(max_length=300, null=True)
    revision = fields.IntField(default=1)
    updated_at = UtcDatetimeField(auto_now=True)

    class Meta:
        table = "appeal"
        indexes = (
            Index(fields=("state", "deadline_on", "id")),
            Index(fields=("deadline_on", "id")),
            Index(fields=("received_at", "id")),
        )


class AppealEvent(Model):
    # The history: one row per step, with who, when, what and why. The letter of an
    # answer or a forwarding is kept here, with its attachments from the media library.
    id = fields.IntField(primary_key=True)
    appeal: fields.ForeignKeyRelation[Appeal] = fields.ForeignKeyField(
        "models.Appeal", related_name=False, on_delete=fields.CASCADE
    )
    at = UtcDatetimeField()
    actor: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    action = fields.CharEnumField(AppealAction, max_length=24)
    from_state = fields.CharEnumField(AppealState, max_length=24, null=True)
    to_state = fields.CharEnumField(AppealState, max_length=24)
    comment = fields.TextField(null=True)
    letter = fields.TextField(null=True)
    attachment_ids: list[int] = fields.JSONField(default=list)
    # What the step decided: the new due date, the body forwarded to, the reason.
    details: dict[str, Any] = fields.JSONField(default=dict)

    class Meta:
        table = "appeal_event"
        indexes = (Index(fields=("appeal_id", "id")),)


class AppealNumberCounter(Model):
    # The last registration number of a year (see services/feedback/tickets.py).
    year = fields.IntField(primary_key=True, generated=False)
    last_number = fields.IntField(default=0)

    class Meta:
        table = "appeal_number_counter"
