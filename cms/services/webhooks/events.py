"""What a webhook reports, written to the outbox inside the change's transaction.

Every write that reports something calls one of the `record_*` functions while its
transaction is open: a rolled-back change leaves no event, a committed one has its
event, whatever happens to the process after the commit, as long as some endpoint
was active at that moment. With none, nothing is written: no endpoint could ever get
it (an endpoint is sent only events committed while it is active and after it was
made, delivery._wants), and the sender would only claim and close it. That spares
every public feedback submission and every edit an insert, and the sender its
rounds, on the sites (most of them) that use no webhooks. The body a receiver gets
is made from the stored payload (`body`), the same for every attempt.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection

from cms.models import (
    ContentModel,
    FeedbackMessage,
    MediaAsset,
    PublishableModel,
    WebhookEndpoint,
    WebhookEvent,
)
from cms.services import urls
from cms.services.ids import encode_global_id
from cms.services.publishing import publication_status
from cms.services.visibility import now
from cms.settings import Settings


class EventType(StrEnum):
    CONTENT_CREATED = "content.created"
    CONTENT_UPDATED = "content.updated"
    CONTENT_PUBLISHED = "content.published"
    CONTENT_UNPUBLISHED = "content.unpublished"
    CONTENT_DELETED = "content.deleted"
    CONTENT_RESTORED = "content.restored"
    MEDIA_CREATED = "media.created"
    MEDIA_UPDATED = "media.updated"
    MEDIA_DELETED = "media.deleted"
    FEEDBACK_RECEIVED = "feedback.received"
    # Sent only by the test-ping mutation, to one endpoint.
    PING = "webhook.ping"


# The content actions of cms/services/events.py that webhooks report.
_CONTENT_ACTIONS = {
    "created": EventType.CONTENT_CREATED,
    "updated": EventType.CONTENT_UPDATED,
    "published": EventType.CONTENT_PUBLISHED,
    "unpublished": EventType.CONTENT_UNPUBLISHED,
    "deleted": EventType.CONTENT_DELETED,
    "restored": EventType.CONTENT_RESTORED,
}
_MEDIA_ACTIONS = {
    "created": EventType.MEDIA_CREATED,
    "updated": EventType.MEDIA_UPDATED,
    "deleted": EventType.MEDIA_DELETED,
}


_LISTENING = f"SELECT 1 FROM {WebhookEndpoint._meta.db_table} WHERE active LIMIT 1"

# The wake-ups of this process's senders (delivery.WebhookSender.run), called when an
# event is written. That is before its commit: a sender's round starts a moment later
# (delivery._GATHER_SECONDS), and what it misses, its next poll finds.
waking: set[Callable[[], None]] = set()


def new_message_id() -> str:
    return "msg_" + secrets.token_hex(12)


async def record(
    event_type: EventType,
    payload: dict[str, Any],
    *,
    content_type: str | None = None,
    using_db: BaseDBAsyncClient | None = None,
) -> None:
    """One event in the outbox for the endpoints to come (none: nothing); call it
    inside the transaction of the change, which the check of the endpoints joins."""
    # Plain SQL: the check runs for every edit and submission, and a queryset costs
    # more to build than the statement to run.
    connection = using_db or get_connection("default")  # the change's transaction
    _, rows = await connection.execute_query(_LISTENING)
    if not rows:
        return
    await write(event_type, payload, content_type=content_type, using_db=using_db)
    for wake in list(waking):
        wake()


async def write(
    event_type: EventType,
    payload: dict[str, Any],
    *,
    content_type: str | None = None,
    dispatched_at: datetime | None = None,
    using_db: BaseDBAsyncClient | None = None,
) -> WebhookEvent:
    """One event in the outbox, whoever listens (a ping, already fanned out)."""
    moment = now()
    return await WebhookEvent.create(
        using_db=using_db,
        message_id=new_message_id(),
        event_type=event_type.value,
        content_type=content_type,
        payload=payload,
        next_attempt_at=moment,
        dispatched_at=dispatched_at,
    )


async def record_content(
    type_name: str, item: ContentModel, action: str, revision: int, changed: list[str]
) -> None:
    """A change of an editable item (editing.py): `action` as events.ContentChange says."""
    event_type = _CONTENT_ACTIONS.get(action)
    if event_type is None:
        return
    slug = getattr(item, "slug", None)
    status = publication_status(item).value.upper() if isinstance(item, PublishableModel) else None
    await record(
        event_type,
        {
            "kind": type_name,
            "id": encode_global_id(type_name, item.pk),
            "databaseId": item.pk,
            "slug": slug,
            "status": status,
            "revision": revision,
            "changedFields": list(changed),
        },
        content_type=type_name,
    )


async def record_media(asset: MediaAsset, action: str, changed: list[str]) -> None:
    await record(
        _MEDIA_ACTIONS[action],
        {
            "kind": "MediaAsset",
            "id": encode_global_id("MediaAsset", asset.pk),
            "databaseId": asset.pk,
            "slug": None,
            "status": None,
            "revision": getattr(asset, "revision", None),
            "changedFields": list(changed),
        },
        content_type="MediaAsset",
    )


async def record_feedback(message: FeedbackMessage, using_db: BaseDBAsyncClient) -> None:
    """A new message for staff systems: its ticket and kind, never the sender's data."""
    await record(
        EventType.FEEDBACK_RECEIVED,
        {
            "kind": "FeedbackMessage",
            "id": encode_global_id("FeedbackMessage", message.pk),
            "databaseId": message.pk,
            "ticket": message.ticket,
            "feedbackKind": str(message.kind).upper(),
        },
        content_type="FeedbackMessage",
        using_db=using_db,
    )


_URLS = {
    "News": urls.news_url,
    "Agreement": urls.agreement_url,
    "ActionPlan": urls.action_plan_url,
    "Enterprise": urls.enterprise_url,
}


def body(settings: Settings, event: WebhookEvent) -> bytes:
    """The JSON body of every delivery of `event`: its type, its time and the item
    (with the front-end URL of the types that have pages)."""
    data = dict(event.payload)
    make_url = _URLS.get(event.content_type or "")
    slug = data.get("slug")
    if "slug" in data:
        data["url"] = make_url(settings, slug) if make_url and slug else None
    stamp = event.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return orjson.dumps({"type": event.event_type, "timestamp": stamp, "data": data})
