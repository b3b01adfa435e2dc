"""Managing webhook endpoints (admins): create, change, delete, rotate the secret,
redeliver, ping. The secret is returned only by `create` and `rotate_secret`."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from tortoise.transactions import in_transaction

from cms.errors import Code, ValidationFailedError
from cms.models import WebhookDelivery, WebhookEndpoint
from cms.services.content_types import CONTENT_TYPES
from cms.services.validation import Checker
from cms.services.visibility import now
from cms.services.webhooks.addresses import is_public, url_problem
from cms.services.webhooks.events import EventType, write
from cms.services.webhooks.signing import new_secret
from cms.settings import Settings

SUBSCRIBABLE = tuple(event for event in EventType if event is not EventType.PING)


@dataclass(frozen=True, slots=True)
class EndpointInput:
    """Absent (None) fields of an update stay as they are."""

    url: str | None = None
    description: str | None = None
    event_types: Sequence[EventType] | None = None
    content_types: Sequence[str] | None = None
    active: bool | None = None


def _not_found() -> ValidationFailedError:
    return ValidationFailedError.one(("id",), Code.NOT_FOUND, "Такого адреса вебхука нет.")


def _clean(settings: Settings, data: EndpointInput, *, creating: bool) -> dict[str, Any]:
    check = Checker()
    values: dict[str, Any] = {}
    url = check.text(data.url, ("input", "url"), required=creating, max_length=2000, label="URL")
    if url is not None:
        problem = url_problem(url)
        host = urlsplit(url).hostname or ""
        if problem is None and not settings.webhook_allow_private:
            try:
                literal = ipaddress.ip_address(host)
            except ValueError:
                literal = None
            if (literal is not None and not is_public(literal)) or host == "localhost":
                problem = "Адрес во внутренней сети: доставка туда запрещена."
        if problem is not None:
            check.fail(("input", "url"), Code.INVALID, problem)
        values["url"] = url
    if data.description is not None:
        values["description"] = (
            check.text(data.description, ("input", "description"), max_length=500) or ""
        )
    if data.event_types is not None:
        if not data.event_types:
            check.fail(("input", "eventTypes"), Code.REQUIRED, "Выберите хотя бы одно событие.")
        if EventType.PING in data.event_types:
            check.fail(("input", "eventTypes"), Code.INVALID, "Проверочное событие не выбирают.")
        values["event_types"] = sorted({event.value for event in data.event_types})
    elif creating:
        check.fail(("input", "eventTypes"), Code.REQUIRED, "Выберите хотя бы одно событие.")
    if data.content_types is not None:
        unknown = [name for name in data.content_types if name not in CONTENT_TYPES]
        if unknown:
            check.fail(
                ("input", "contentTypes"),
                Code.INVALID,
                f"Неизвестные типы материалов: {', '.join(unknown)}.",
            )
        values["content_types"] = sorted(set(data.content_types))
    if data.active is not None:
        values["active"] = data.active
    check.raise_if_any()
    return values


async def create(
    settings: Settings, data: EndpointInput, *, created_by: int | None
) -> tuple[str, WebhookEndpoint]:
    """The new endpoint and its secret (the only time the secret is shown)."""
    values = _clean(settings, data, creating=True)
    secret = new_secret()
    endpoint = await WebhookEndpoint.create(**values, secret=secret, created_by_id=created_by)
    return secret, endpoint


async def get(pk: int) -> WebhookEndpoint:
    endpoint = await WebhookEndpoint.get_or_none(id=pk)
    if endpoint is None:
        raise _not_found()
    return endpoint


async def update(settings: Settings, pk: int, data: EndpointInput) -> WebhookEndpoint:
    """Changes an endpoint; turning it back on clears the reason it was disabled and
    its run of failures."""
    endpoint = await get(pk)
    values = _clean(settings, data, creating=False)
    if values.get("active") is True and not endpoint.active:
        values.update(disabled_at=None, disabled_reason=None, consecutive_failures=0)
    if values:
        await WebhookEndpoint.filter(id=pk).update(**values, updated_at=now())
    return await get(pk)


async def delete(pk: int) -> None:
    """The endpoint and its log."""
    if not await WebhookEndpoint.filter(id=pk).delete():
        raise _not_found()


async def rotate_secret(
    settings: Settings, pk: int, *, grace_hours: int | None
) -> tuple[str, WebhookEndpoint]:
    """A new secret; the current one keeps signing beside it for the grace period."""
    hours = settings.webhook_secret_grace_hours if grace_hours is None else grace_hours
    if not 0 <= hours <= 24 * 30:
        raise ValidationFailedError.one(("graceHours",), Code.INVALID, "Срок от 0 до 720 часов.")
    endpoint = await get(pk)
    secret = new_secret()
    moment = now()
    await WebhookEndpoint.filter(id=pk).update(
        secret=secret,
        previous_secret=endpoint.secret if hours else None,
        previous_secret_expires_at=moment + timedelta(hours=hours) if hours else None,
        updated_at=moment,
    )
    return secret, await get(pk)


async def redeliver(pk: int) -> WebhookDelivery:
    """Sends a delivery again (as a new series of attempts), whatever became of it."""
    delivery = await WebhookDelivery.get_or_none(id=pk)
    if delivery is None:
        raise ValidationFailedError.one(("id",), Code.NOT_FOUND, "Такой доставки нет.")
    await WebhookDelivery.filter(id=pk).update(
        next_attempt_at=now(), attempts=0, delivered_at=None, failed_at=None
    )
    return await WebhookDelivery.get(id=pk)


async def ping(pk: int) -> WebhookDelivery:
    """A `webhook.ping` event for this endpoint only, due at once."""
    endpoint = await get(pk)
    moment = now()
    async with in_transaction():
        event = await write(
            EventType.PING,
            {"kind": "WebhookEndpoint", "databaseId": endpoint.pk},
            dispatched_at=moment,
        )
        return await WebhookDelivery.create(
            endpoint_id=endpoint.pk, event_id=event.pk, next_attempt_at=moment
        )
