"""Webhook endpoints and their delivery log as the API shows them. The signing
secret is never a field: it is shown once, in the payload that made it."""

from __future__ import annotations

from datetime import datetime

import strawberry

from cms import models
from cms.services.webhooks.events import EventType
from graphql_schema.relay import global_id

# The domain enum is the GraphQL enum (registered in place; a plain alias for mypy).
WebhookEventType = EventType
strawberry.enum(
    EventType,
    name="WebhookEventType",
    description="What a webhook reports: content.created, …, feedback.received, webhook.ping.",
)


@strawberry.type
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    description: str
    event_types: list[WebhookEventType]
    content_types: list[str] = strawberry.field(
        description="Content types (News, Agreement, …) of content events; empty: all."
    )
    active: bool
    disabled_at: datetime | None
    disabled_reason: str | None = strawberry.field(
        description="Why the CMS turned it off (410 Gone, a run of failures)."
    )
    consecutive_failures: int
    previous_secret_expires_at: datetime | None = strawberry.field(
        description="After a rotation: until when the previous secret signs too."
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: models.WebhookEndpoint) -> WebhookEndpoint:
        return cls(
            id=global_id("WebhookEndpoint", row.pk),
            url=row.url,
            description=row.description,
            event_types=[EventType(value) for value in row.event_types],
            content_types=list(row.content_types),
            active=row.active,
            disabled_at=row.disabled_at,
            disabled_reason=row.disabled_reason,
            consecutive_failures=row.consecutive_failures,
            previous_secret_expires_at=row.previous_secret_expires_at
            if row.previous_secret
            else None,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.type(description="One HTTP request of a delivery.")
class WebhookAttempt:
    started_at: datetime
    duration_ms: int
    status_code: int | None
    response_body: str = strawberry.field(description="The first kilobyte of the answer.")
    error: str | None

    @classmethod
    def from_row(cls, row: models.WebhookAttempt) -> WebhookAttempt:
        return cls(
            started_at=row.started_at,
            duration_ms=row.duration_ms,
            status_code=row.status_code,
            response_body=row.response_body,
            error=row.error,
        )


@strawberry.type(description="One event sent to one endpoint, with every attempt.")
class WebhookDelivery:
    id: strawberry.ID
    message_id: str = strawberry.field(description="The `webhook-id` header.")
    event_type: WebhookEventType
    created_at: datetime
    attempts: int
    next_attempt_at: datetime | None = strawberry.field(description="Null once settled.")
    delivered_at: datetime | None
    failed_at: datetime | None = strawberry.field(description="When it was given up on.")
    last_status: int | None
    last_error: str | None
    attempt_log: list[WebhookAttempt] = strawberry.field(description="Newest first.")

    @classmethod
    def from_rows(
        cls,
        row: models.WebhookDelivery,
        event: models.WebhookEvent,
        attempts: list[models.WebhookAttempt],
    ) -> WebhookDelivery:
        settled = row.delivered_at is not None or row.failed_at is not None
        return cls(
            id=global_id("WebhookDelivery", row.pk),
            message_id=event.message_id,
            event_type=EventType(event.event_type),
            created_at=row.created_at,
            attempts=row.attempts,
            next_attempt_at=None if settled else row.next_attempt_at,
            delivered_at=row.delivered_at,
            failed_at=row.failed_at,
            last_status=row.last_status,
            last_error=row.last_error,
            attempt_log=[WebhookAttempt.from_row(attempt) for attempt in attempts],
        )


async def deliveries_of(rows: list[models.WebhookDelivery]) -> list[WebhookDelivery]:
    """The deliveries with their events and attempts: two statements for any number."""
    ids = [row.pk for row in rows]
    events = {
        event.pk: event
        for event in await models.WebhookEvent.filter(id__in={row.event_id for row in rows})
    }
    attempts: dict[int, list[models.WebhookAttempt]] = {pk: [] for pk in ids}
    if ids:
        for attempt in await models.WebhookAttempt.filter(delivery_id__in=ids).order_by("-id"):
            attempts[attempt.delivery_id].append(attempt)
    return [WebhookDelivery.from_rows(row, events[row.event_id], attempts[row.pk]) for row in rows]
