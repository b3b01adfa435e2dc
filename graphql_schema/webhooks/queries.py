"""Root query fields of the webhooks area (admins)."""

from __future__ import annotations

import strawberry

from cms import models
from cms.services.pagination import Ordering, SortKey, paginate
from cms.services.permissions import Action
from graphql_schema.context import Info
from graphql_schema.permissions import require
from graphql_schema.relay import Connection, connection_of, page_window, parse_typed_id
from graphql_schema.webhooks.types import WebhookDelivery, WebhookEndpoint, deliveries_of

DELIVERY_ORDER = Ordering(
    "webhook-deliveries:created_desc",
    (SortKey("created_at", "datetime", True), SortKey("id", "int", True)),
)


@strawberry.type
class WebhookQueries:
    @strawberry.field(description="Every webhook endpoint, newest first (admin).")
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpoint]:
        require(info.context.viewer, Action.MANAGE_WEBHOOKS, "Список вебхуков")
        rows = await models.WebhookEndpoint.all().order_by("-created_at", "-id")
        return [WebhookEndpoint.from_row(row) for row in rows]

    @strawberry.field(
        description="The delivery log of one endpoint, newest first, with attempts (admin)."
    )
    async def webhook_deliveries(
        self,
        info: Info,
        endpoint_id: strawberry.ID,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[WebhookDelivery]:
        require(info.context.viewer, Action.MANAGE_WEBHOOKS, "Журнал вебхуков")
        pk = parse_typed_id(endpoint_id, "WebhookEndpoint", "endpointId")
        window = page_window(info, DELIVERY_ORDER, first=first, after=after)
        page = await paginate(models.WebhookDelivery.filter(endpoint_id=pk), DELIVERY_ORDER, window)
        nodes = await deliveries_of(list(page.items))
        return connection_of(page, nodes)
