"""Root query fields of the cooperation area."""

from __future__ import annotations

import strawberry

from cms import models
from cms.services import cooperation as service
from cms.services.pagination import paginate
from cms.services.visibility import visible
from graphql_schema.common import enum_type
from graphql_schema.content.types import (
    ActionPlan,
    Agreement,
    CooperationDirection,
    Enterprise,
    Event,
    Region,
)
from graphql_schema.context import Info
from graphql_schema.cooperation import dataloaders as loaders
from graphql_schema.lookups import lookup_field
from graphql_schema.relay import Connection, connection, page_window, parse_typed_id


@strawberry.input
class AgreementFilter:
    region: str | None = strawberry.field(default=None, description="A party's region code.")
    agreement_status: enum_type(models.AgreementStatus) | None = None  # type: ignore[valid-type]
    search: str | None = None


@strawberry.input
class BoundingBox:
    south: float
    west: float
    north: float
    east: float


@strawberry.input
class EnterpriseFilter:
    region: str | None = strawberry.field(default=None, description="A region code.")
    locality: str | None = strawberry.field(default=None, description="The exact locality name.")
    industry: str | None = strawberry.field(default=None, description="The exact industry name.")
    search: str | None = None
    within: BoundingBox | None = None


@strawberry.type
class CooperationQueries:
    @strawberry.field(description="Agreements by title.")
    async def agreements(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: AgreementFilter | None = None,
    ) -> Connection[Agreement]:
        ordering = service.AGREEMENTS_ORDER
        window = page_window(info, ordering, first=first, after=after, last=last, before=before)
        agreement_filter = service.AgreementFilter()
        if filter is not None:
            agreement_filter = service.AgreementFilter(
                region=filter.region,
                agreement_status=filter.agreement_status,
                search=filter.search,
            )
        queryset = service.agreements_queryset(info.context.viewer, agreement_filter)
        return connection(await paginate(queryset, ordering, window), Agreement.from_row)

    agreement = lookup_field(
        "Agreement",
        Agreement,
        loaders.agreement_by_id,
        loaders.agreement_by_slug,
        "One agreement by id or slug; null when none is visible.",
    )

    @strawberry.field(description="Action plans, latest period first.")
    async def action_plans(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        agreement: strawberry.ID | None = None,
    ) -> Connection[ActionPlan]:
        ordering = service.ACTION_PLANS_ORDER
        window = page_window(info, ordering, first=first, after=after, last=last, before=before)
        agreement_id = (
            None if agreement is None else parse_typed_id(agreement, "Agreement", "agreement")
        )
        queryset = service.action_plans_queryset(info.context.viewer, agreement_id)
        return connection(await paginate(queryset, ordering, window), ActionPlan.from_row)

    action_plan = lookup_field(
        "ActionPlan",
        ActionPlan,
        loaders.action_plan_by_id,
        loaders.action_plan_by_slug,
        "One action plan by id or slug; null when none is visible.",
    )

    @strawberry.field(description="Enterprises by name.")
    async def enterprises(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: EnterpriseFilter | None = None,
    ) -> Connection[Enterprise]:
        ordering = service.ENTERPRISES_ORDER
        window = page_window(info, ordering, first=first, after=after, last=last, before=before)
        enterprise_filter = service.EnterpriseFilter()
        if filter is not None:
            box = filter.within
            enterprise_filter = service.EnterpriseFilter(
                region=filter.region,
                locality=filter.locality,
                industry=filter.industry,
                search=filter.search,
                within=service.BoundingBox(box.south, box.west, box.north, box.east)
                if box
                else None,
            )
        queryset = service.enterprises_queryset(info.context.viewer, enterprise_filter)
        return connection(await paginate(queryset, ordering, window), Enterprise.from_row)

    enterprise = lookup_field(
        "Enterprise",
        Enterprise,
        loaders.enterprise_by_id,
        loaders.enterprise_by_slug,
        "One enterprise by id or slug; null when none is visible.",
    )

    @strawberry.field(description="Every region, by name.")
    async def regions(self, info: Info) -> list[Region]:
        rows = await visible(models.Region, info.context.viewer).order_by("name", "id")
        return [Region.from_row(row) for row in rows]

    @strawberry.field(description="Every direction of cooperation, by name.")
    async def directions(self, info: Info) -> list[CooperationDirection]:
        rows = await visible(models.CooperationDirection, info.context.viewer).order_by(
            "name", "id"
        )
        return [CooperationDirection.from_row(row) for row in rows]

    @strawberry.field(description="Events, latest start first; undated ones last.")
    async def events(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Event]:
        ordering = service.EVENTS_ORDER
        window = page_window(info, ordering, first=first, after=after, last=last, before=before)
        queryset = service.events_queryset(info.context.viewer)
        return connection(await paginate(queryset, ordering, window), Event.from_row)
