"""Webhooks: the endpoints admins register, the outbox of events, and the log of
every delivery and attempt (see cms/services/webhooks/)."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from cms.models.base import UtcDatetimeField


class WebhookEndpoint(Model):
    id = fields.IntField(primary_key=True)
    url = fields.CharField(max_length=2000)
    description = fields.CharField(max_length=500, default="")
    # Event types ("content.published", "media.created", "feedback.received") and
    # content types ("News"; none: every type) it wants.
    event_types: list[str] = fields.JSONField(default=list)
    content_types: list[str] = fields.JSONField(default=list)
    active = fields.BooleanField(default=True)
    # The signing secret ("whsec_" + base64), shown once; during a rotation's grace
    # period the previous one signs too, until `previous_secret_expires_at`.
    secret = fields.CharField(max_length=100)
    previous_secret = fields.CharField(max_length=100, null=True)
    previous_secret_expires_at = UtcDatetimeField(null=True)
    # Failed attempts since the last success; the endpoint is disabled at a limit.
    consecutive_failures = fields.IntField(default=0)
    disabled_at = UtcDatetimeField(null=True)
    disabled_reason = fields.CharField(max_length=300, null=True)
    created_by: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    created_at = UtcDatetimeField(auto_now_add=True)
    updated_at = UtcDatetimeField(auto_now=True)

    class Meta:
        table = "webhook_endpoint"


class WebhookEvent(Model):
    # The outbox: one row per change, written in the change's own transaction, so a
    # rolled-back change leaves none and a committed one is never lost. A worker
    # fans it out into deliveries (one per interested endpoint) and marks it.
    id = fields.IntField(primary_key=True)
    # The `webhook-id` header: the same for every attempt, so receivers can dedupe.
    message_id = fields.CharField(max_length=40, unique=True)
    event_type = fields.CharField(max_length=40)
    content_type = fields.CharField(max_length=40, null=True)
    payload: dict[str, Any] = fields.JSONField(default=dict)
    created_at = UtcDatetimeField(auto_now_add=True)
    # Claimed through cms/services/outbox.py like every outbox row.
    next_attempt_at = UtcDatetimeField()
    attempts = fields.IntField(default=0)
    dispatched_at = UtcDatetimeField(null=True)

    class Meta:
        table = "webhook_event"
        indexes = (
            Index(fields=("dispatched_at", "next_attempt_at")),
            Index(fields=("created_at",)),
        )


class WebhookDelivery(Model):
    # One event to one endpoint, retried until delivered or given up on.
    id = fields.IntField(primary_key=True)
    endpoint: fields.ForeignKeyRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "models.WebhookEndpoint", related_name=False, on_delete=fields.CASCADE
    )
    endpoint_id: int
    event: fields.ForeignKeyRelation[WebhookEvent] = fields.ForeignKeyField(
        "models.WebhookEvent", related_name=False, on_delete=fields.CASCADE
    )
    event_id: int
    created_at = UtcDatetimeField(auto_now_add=True)
    next_attempt_at = UtcDatetimeField()
    attempts = fields.IntField(default=0)
    delivered_at = UtcDatetimeField(null=True)
    failed_at = UtcDatetimeField(null=True)  # given up on
    last_status = fields.IntField(null=True)
    last_error = fields.CharField(max_length=300, null=True)

    class Meta:
        table = "webhook_delivery"
        unique_together = (("event_id", "endpoint_id"),)
        indexes = (
            Index(fields=("delivered_at", "failed_at", "next_attempt_at")),
            Index(fields=("endpoint_id", "created_at", "id")),
        )


class WebhookAttempt(Model):
    # One HTTP request of a delivery, as the log shows it.
    id = fields.IntField(primary_key=True)
    delivery: fields.ForeignKeyRelation[WebhookDelivery] = fields.ForeignKeyField(
        "models.WebhookDelivery", related_name=False, on_delete=fields.CASCADE
    )
    delivery_id: int
    started_at = UtcDatetimeField()
    duration_ms = fields.IntField()
    status_code = fields.IntField(null=True)
    response_body = fields.TextField(default="")  # the first kilobyte
    error = fields.CharField(max_length=300, null=True)

    class Meta:
        table = "webhook_attempt"
        indexes = (Index(fields=("delivery_id", "id")), Index(fields=("started_at",)))
