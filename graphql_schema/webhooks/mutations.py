"""Mutations of the webhooks area (admins): endpoints, secrets, redelivery, ping."""

from __future__ import annotations

import strawberry

from cms.errors import ValidationFailedError
from cms.models import WebhookDelivery as DeliveryRow
from cms.services.permissions import Action
from cms.services.webhooks import endpoints
from cms.services.webhooks.endpoints import EndpointInput
from graphql_schema.context import Info
from graphql_schema.payloads import DeletePayload, UserError, user_errors
from graphql_schema.permissions import require
from graphql_schema.relay import parse_typed_id
from graphql_schema.webhooks.types import (
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
    deliveries_of,
)


@strawberry.input
class CreateWebhookEndpointInput:
    url: str = strawberry.field(description="http(s); public addresses only.")
    event_types: list[WebhookEventType]
    content_types: list[str] | None = strawberry.field(
        default=None, description="News, Agreement, …: only these for content events."
    )
    description: str | None = None
    active: bool = True


@strawberry.input
class UpdateWebhookEndpointInput:
    url: str | None = None
    event_types: list[WebhookEventType] | None = None
    content_types: list[str] | None = None
    description: str | None = None
    active: bool | None = strawberry.field(
        default=None, description="true again after a disable clears its reason."
    )


@strawberry.type
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint | None
    errors: list[UserError]


@strawberry.type
class WebhookSecretPayload:
    secret: str | None = strawberry.field(
        description="The signing secret (whsec_…), shown only in this answer."
    )
    endpoint: WebhookEndpoint | None
    errors: list[UserError]


@strawberry.type
class WebhookDeliveryPayload:
    delivery: WebhookDelivery | None
    errors: list[UserError]


async def _delivery(row: DeliveryRow) -> WebhookDelivery:
    return (await deliveries_of([row]))[0]


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(description="A new webhook endpoint and its signing secret (admin).")
    async def create_webhook_endpoint(
        self, info: Info, input: CreateWebhookEndpointInput
    ) -> WebhookSecretPayload:
        viewer = info.context.viewer
        require(viewer, Action.MANAGE_WEBHOOKS, "Создание вебхука")
        data = EndpointInput(
            url=input.url,
            description=input.description,
            event_types=input.event_types,
            content_types=input.content_types or [],
            active=input.active,
        )
        try:
            secret, row = await endpoints.create(
                info.context.settings, data, created_by=viewer.user_id
            )
        except ValidationFailedError as error:
            return WebhookSecretPayload(secret=None, endpoint=None, errors=user_errors(error))
        return WebhookSecretPayload(
            secret=secret, endpoint=WebhookEndpoint.from_row(row), errors=[]
        )

    @strawberry.mutation(description="Changes an endpoint (admin).")
    async def update_webhook_endpoint(
        self, info: Info, id: strawberry.ID, input: UpdateWebhookEndpointInput
    ) -> WebhookEndpointPayload:
        require(info.context.viewer, Action.MANAGE_WEBHOOKS, "Изменение вебхука")
        data = EndpointInput(
            url=input.url,
            description=input.description,
            event_types=input.event_types,
            content_types=input.content_types,
            active=input.active,
        )
        try:
            row = await endpoints.update(
                info.context.settings, parse_typed_id(id, "WebhookEndpoint"), data
            )
        except ValidationFailedError as error:
            return WebhookEndpointPayload(endpoint=None, errors=user_errors(error))
        return WebhookEndpointPayload(endpoint=WebhookEndpoint.from_row(row), errors=[])

    @strawberry.mutation(description="Deletes an endpoint and its delivery log (admin).")
    async def delete_webhook_endpoint(self, info: Info, id: strawberry.ID) -> DeletePayload:
        require(info.context.viewer, Action.MANAGE_WEBHOOKS, "Удаление вебхука")
        try:
            await endpoints.delete(parse_typed_id(id, "WebhookEndpoint"))
        except ValidationFailedError as error:
            return DeletePayload(deleted_id=None, errors=user_errors(error))
        return DeletePayload(deleted_id=id, errors=[])

    @strawberry.mutation(
        description="A new signing secret; the previous one signs too for `graceHours` "
        "(default CMS_WEBHOOK_SECRET_GRACE_HOURS), so receivers can switch (admin)."
    )
    async def rotate_webhook_secret(
        self, info: Info, id: strawberry.ID, grace_hours: int | None = None
    ) -> WebhookSecretPayload:
        require(info.context.viewer, Action.MANAGE_WEBHOOKS, "Смена секрета вебхука")
        try:
            secret, row = await endpoints.rotate_secret(
                info.context.settings,
                parse_typed_id(id, "WebhookEndpoint"),
                grace_hours=grace_hours,
            )
        except ValidationFailedError as error:
            return WebhookSecretPayload(secret=None, endpoint=None, errors=user_errors(error))
        return WebhookSecretPayload(
            secret=secret, endpoint=WebhookEndpoint.from_row(row), errors=[]
        )

    @strawberry.mutation(description="Sends a delivery again, as a new series of attempts.")
    async def redeliver_webhook(self, info: Info, id: strawberry.ID) -> WebhookDeliveryPayload:
        require(info.context.viewer, Action.MANAGE_WEBHOOKS, "Повторная отправка вебхука")
        try:
            row = await endpoints.redeliver(parse_typed_id(id, "WebhookDelivery"))
        except ValidationFailedError as error:
            return WebhookDeliveryPayload(delivery=None, errors=user_errors(error))
        info.context.runtime.webhook_sender.wake()
        return WebhookDeliveryPayload(delivery=await _delivery(row), errors=[])

    @strawberry.mutation(
        description="Sends a `webhook.ping` event to the endpoint; its result is in the log."
    )
    async def ping_webhook_endpoint(self, info: Info, id: strawberry.ID) -> WebhookDeliveryPayload:
        require(info.context.viewer, Action.MANAGE_WEBHOOKS, "Проверка вебхука")
        try:
            row = await endpoints.ping(parse_typed_id(id, "WebhookEndpoint"))
        except ValidationFailedError as error:
            return WebhookDeliveryPayload(delivery=None, errors=user_errors(error))
        info.context.runtime.webhook_sender.wake()
        return WebhookDeliveryPayload(delivery=await _delivery(row), errors=[])
