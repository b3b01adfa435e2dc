"""Cooperation content as the API shows it."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from cms import models
from cms.services import urls
from cms.services.cooperation import ENTERPRISES_ORDER
from cms.services.publishing import publication_status
from graphql_schema.common import PublicationStatus, RichText
from graphql_schema.context import Info
from graphql_schema.cooperation import dataloaders as loaders
from graphql_schema.media.dataloaders import documents_of_agreements, media_by_id
from graphql_schema.media.types import MediaAsset
from graphql_schema.relay import Connection, Node, connection, global_id, page_window
from graphql_schema.syndication import FeedLinks

# The news and cooperation areas refer to each other: module imports (resolved at
# call time) and lazy annotations (resolved when the schema is built).
from graphql_schema.news import dataloaders as news_loaders  # isort: skip
from graphql_schema.news import types as news  # isort: skip

if TYPE_CHECKING:
    from graphql_schema.news.types import News

_NEWS = "graphql_schema.news.types"

# Domain enums are the GraphQL enums: strawberry.enum registers the class in place
# (a plain alias, so that annotations stay types for mypy).
OrganizationKind = models.OrganizationKind
strawberry.enum(OrganizationKind, name="OrganizationKind")
AgreementStatus = models.AgreementStatus
strawberry.enum(AgreementStatus, name="AgreementStatus")
ActionItemStatus = models.ActionItemStatus
strawberry.enum(ActionItemStatus, name="ActionItemStatus")


async def _media(info: Info, asset_id: int | None) -> MediaAsset | None:
    if asset_id is None:
        return None
    row = await info.context.loaders[media_by_id].load(asset_id)
    return MediaAsset.from_row(row) if row else None


@strawberry.type
class GeoPoint:
    lat: float
    lon: float


@strawberry.type
class Region(Node):
    id: strawberry.ID
    code: str = strawberry.field(description='ISO 3166-2, e.g. "RU-AMU", "RU-ALT".')
    name: str
    pk: strawberry.Private[int]

    @strawberry.field(description="Enterprises of the region, by name.")
    async def enterprises(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Enterprise]:
        window = page_window(info, ENTERPRISES_ORDER, first=first, after=after)
        page = await info.context.loaders[loaders.enterprise_pages_of_regions].load(
            (self.pk, window)
        )
        return connection(page, Enterprise.from_row)

    @strawberry.field(description="Feeds of the region's news.")
    def feeds(self, info: Info) -> FeedLinks:
        return FeedLinks.of(info.context.settings, f"regions/{self.code}")

    @classmethod
    def from_row(cls, row: models.Region) -> Region:
        return cls(id=global_id("Region", row.pk), code=row.code, name=row.name, pk=row.pk)


async def _region(info: Info, region_id: int | None) -> Region | None:
    if region_id is None:
        return None
    row = await info.context.loaders[loaders.region_by_id].load(region_id)
    return Region.from_row(row) if row else None


@strawberry.type
class Organization(Node):
    id: strawberry.ID
    name: str
    short_name: str | None
    kind: OrganizationKind
    revision: int
    region_id: strawberry.Private[int | None]

    @strawberry.field
    async def region(self, info: Info) -> Region | None:
        return await _region(info, self.region_id)

    @classmethod
    def from_row(cls, row: models.Organization) -> Organization:
        return cls(
            id=global_id("Organization", row.pk),
            name=row.name,
            short_name=row.short_name,
            kind=row.kind,
            revision=row.revision,
            region_id=row.region_id,
        )


async def _organization(info: Info, organization_id: int | None) -> Organization | None:
    if organization_id is None:
        return None
    row = await info.context.loaders[loaders.organization_by_id].load(organization_id)
    return Organization.from_row(row) if row else None


@strawberry.type
class Person(Node):
    id: strawberry.ID
    full_name: str
    position: str | None = strawberry.field(description="As of the content that cites them.")
    revision: int
    organization_id: strawberry.Private[int | None]
    photo_id: strawberry.Private[int | None]

    @strawberry.field
    async def organization(self, info: Info) -> Organization | None:
        return await _organization(info, self.organization_id)

    @strawberry.field
    async def photo(self, info: Info) -> MediaAsset | None:
        return await _media(info, self.photo_id)

    @classmethod
    def from_row(cls, row: models.Person) -> Person:
        return cls(
            id=global_id("Person", row.pk),
            full_name=row.full_name,
            position=row.position,
            revision=row.revision,
            organization_id=row.organization_id,
            photo_id=row.photo_id,
        )


@strawberry.type
class CooperationDirection(Node):
    id: strawberry.ID
    slug: str
    name: str
    revision: int

    @classmethod
    def from_row(cls, row: models.CooperationDirection) -> CooperationDirection:
        return cls(
            id=global_id("CooperationDirection", row.pk),
            slug=row.slug,
            name=row.name,
            revision=row.revision,
        )


@strawberry.type
class Event(Node):
    id: strawberry.ID
    slug: str
    title: str
    starts_on: date | None
    ends_on: date | None
    place: str | None
    revision: int

    @classmethod
    def from_row(cls, row: models.Event) -> Event:
        return cls(
            id=global_id("Event", row.pk),
            slug=row.slug,
            title=row.title,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            place=row.place,
            revision=row.revision,
        )


@strawberry.type
class Agreement(Node):
    id: strawberry.ID
    slug: str
    title: str
    number: str | None
    signed_on: date | None
    in_force_since: date | None
    valid_until: date | None
    agreement_status: AgreementStatus
    summary: str | None
    status: PublicationStatus
    published_at: datetime | None
    updated_at: datetime
    revision: int
    pk: strawberry.Private[int]
    body_html: strawberry.Private[str]
    body_text: strawberry.Private[str]

    @strawberry.field
    def body(self) -> RichText:
        return RichText(html=self.body_html, text=self.body_text)

    @strawberry.field(description="Canonical front-end URL.")
    def url(self, info: Info) -> str:
        return urls.agreement_url(info.context.settings, self.slug)

    @strawberry.field
    async def parties(self, info: Info) -> list[Organization]:
        rows = await info.context.loaders[loaders.parties_of_agreements].load(self.pk)
        return [Organization.from_row(row) for row in rows]

    @strawberry.field
    async def documents(self, info: Info) -> list[MediaAsset]:
        rows = await info.context.loaders[documents_of_agreements].load(self.pk)
        return [MediaAsset.from_row(row) for row in rows]

    @strawberry.field
    async def action_plans(self, info: Info) -> list[ActionPlan]:
        rows = await info.context.loaders[loaders.action_plans_of_agreements].load(self.pk)
        return [ActionPlan.from_row(row) for row in rows]

    @strawberry.field(description="Published news that cite the agreement, newest first.")
    async def news(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[News, strawberry.lazy(_NEWS)]]:
        window = page_window(info, news_loaders.NEWS_IN_LISTS, first=first, after=after)
        page = await info.context.loaders[news_loaders.news_pages_of_agreements].load(
            (self.pk, window)
        )
        return connection(page, news.News.from_row)

    @strawberry.field(description="Feeds of news about the agreement.")
    def feeds(self, info: Info) -> FeedLinks:
        return FeedLinks.of(info.context.settings, f"agreements/{self.slug}")

    @classmethod
    def from_row(cls, row: models.Agreement) -> Agreement:
        return cls(
            id=global_id("Agreement", row.pk),
            slug=row.slug,
            title=row.title,
            number=row.number,
            signed_on=row.signed_on,
            in_force_since=row.in_force_since,
            valid_until=row.valid_until,
            agreement_status=row.agreement_status,
            summary=row.summary,
            status=publication_status(row),
            published_at=row.published_at,
            updated_at=row.updated_at,
            revision=row.revision,
            pk=row.pk,
            body_html=row.body_html,
            body_text=row.body_text,
        )


@strawberry.type
class ActionPlanItem(Node):
    id: strawberry.ID
    title: str
    due_on: date | None
    responsible: str | None
    item_status: ActionItemStatus
    direction_id: strawberry.Private[int | None]
    event_id: strawberry.Private[int | None]

    @strawberry.field
    async def direction(self, info: Info) -> CooperationDirection | None:
        if self.direction_id is None:
            return None
        row = await info.context.loaders[loaders.direction_by_id].load(self.direction_id)
        return CooperationDirection.from_row(row) if row else None

    @strawberry.field
    async def event(self, info: Info) -> Event | None:
        if self.event_id is None:
            return None
        row = await info.context.loaders[loaders.event_by_id].load(self.event_id)
        return Event.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: models.ActionPlanItem) -> ActionPlanItem:
        return cls(
            id=global_id("ActionPlanItem", row.pk),
            title=row.title,
            due_on=row.due_on,
            responsible=row.responsible,
            item_status=row.item_status,
            direction_id=row.direction_id,
            event_id=row.event_id,
        )


@strawberry.type
class ActionPlan(Node):
    id: strawberry.ID
    slug: str
    title: str
    period_start: date
    period_end: date
    signed_on: date | None
    signed_at: str | None = strawberry.field(description="Where it was signed.")
    status: PublicationStatus
    published_at: datetime | None
    updated_at: datetime
    revision: int
    pk: strawberry.Private[int]
    agreement_id: strawberry.Private[int]

    @strawberry.field(description="Canonical front-end URL.")
    def url(self, info: Info) -> str:
        return urls.action_plan_url(info.context.settings, self.slug)

    @strawberry.field
    async def agreement(self, info: Info) -> Agreement:
        row = await info.context.loaders[loaders.agreement_by_id].load(self.agreement_id)
        if row is None:  # never: a plan is only visible while its agreement is
            raise LookupError(f"the agreement of visible action plan {self.pk} is hidden")
        return Agreement.from_row(row)

    @strawberry.field
    async def signatories(self, info: Info) -> list[Person]:
        rows = await info.context.loaders[loaders.signatories_of_plans].load(self.pk)
        return [Person.from_row(row) for row in rows]

    @strawberry.field
    async def directions(self, info: Info) -> list[CooperationDirection]:
        rows = await info.context.loaders[loaders.directions_of_plans].load(self.pk)
        return [CooperationDirection.from_row(row) for row in rows]

    @strawberry.field
    async def items(self, info: Info) -> list[ActionPlanItem]:
        rows = await info.context.loaders[loaders.items_of_plans].load(self.pk)
        return [ActionPlanItem.from_row(row) for row in rows]

    @strawberry.field
    async def visits(self, info: Info) -> list[Visit]:
        rows = await info.context.loaders[loaders.visits_of_plans].load(self.pk)
        return [Visit.from_row(row) for row in rows]

    @strawberry.field(description="Every enterprise of its visits, once, in visiting order.")
    async def visited_enterprises(self, info: Info) -> list[Enterprise]:
        rows = await info.context.loaders[loaders.visited_enterprises_of_plans].load(self.pk)
        return [Enterprise.from_row(row) for row in rows]

    @classmethod
    def from_row(cls, row: models.ActionPlan) -> ActionPlan:
        return cls(
            id=global_id("ActionPlan", row.pk),
            slug=row.slug,
            title=row.title,
            period_start=row.period_start,
            period_end=row.period_end,
            signed_on=row.signed_on,
            signed_at=row.signed_at,
            status=publication_status(row),
            published_at=row.published_at,
            updated_at=row.updated_at,
            revision=row.revision,
            pk=row.pk,
            agreement_id=row.agreement_id,
        )


@strawberry.type
class Visit(Node):
    id: strawberry.ID
    title: str
    starts_on: date
    ends_on: date
    revision: int
    pk: strawberry.Private[int]
    delegation_region_id: strawberry.Private[int]
    host_region_id: strawberry.Private[int]
    organizer_id: strawberry.Private[int | None]
    action_plan_id: strawberry.Private[int | None]

    @strawberry.field
    async def delegation_region(self, info: Info) -> Region:
        region = await _region(info, self.delegation_region_id)
        assert region is not None  # regions are reference data, never hidden
        return region

    @strawberry.field
    async def host_region(self, info: Info) -> Region:
        region = await _region(info, self.host_region_id)
        assert region is not None  # regions are reference data, never hidden
        return region

    @strawberry.field
    async def organizer(self, info: Info) -> Organization | None:
        return await _organization(info, self.organizer_id)

    @strawberry.field
    async def action_plan(self, info: Info) -> ActionPlan | None:
        if self.action_plan_id is None:
            return None
        row = await info.context.loaders[loaders.action_plan_by_id].load(self.action_plan_id)
        return ActionPlan.from_row(row) if row else None

    @strawberry.field(description="In the order visited.")
    async def enterprises(self, info: Info) -> list[Enterprise]:
        rows = await info.context.loaders[loaders.enterprises_of_visits].load(self.pk)
        return [Enterprise.from_row(row) for row in rows]

    @strawberry.field(description="Published news about the visit, newest first.")
    async def news(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[News, strawberry.lazy(_NEWS)]]:
        window = page_window(info, news_loaders.NEWS_IN_LISTS, first=first, after=after)
        page = await info.context.loaders[news_loaders.news_pages_of_visits].load((self.pk, window))
        return connection(page, news.News.from_row)

    @classmethod
    def from_row(cls, row: models.Visit) -> Visit:
        return cls(
            id=global_id("Visit", row.pk),
            title=row.title,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            revision=row.revision,
            pk=row.pk,
            delegation_region_id=row.delegation_region_id,
            host_region_id=row.host_region_id,
            organizer_id=row.organizer_id,
            action_plan_id=row.action_plan_id,
        )


@strawberry.type
class Enterprise(Node):
    id: strawberry.ID
    slug: str
    name: str
    kind: OrganizationKind
    description: str | None
    locality: str | None
    address: str | None
    location: GeoPoint | None
    website: str | None
    revision: int
    pk: strawberry.Private[int]
    region_id: strawberry.Private[int | None]
    logo_id: strawberry.Private[int | None]

    @strawberry.field(description="Canonical front-end URL.")
    def url(self, info: Info) -> str:
        return urls.enterprise_url(info.context.settings, self.slug)

    @strawberry.field
    async def industries(self, info: Info) -> list[str]:
        return await info.context.loaders[loaders.industries_of_enterprises].load(self.pk)

    @strawberry.field
    async def region(self, info: Info) -> Region | None:
        return await _region(info, self.region_id)

    @strawberry.field
    async def logo(self, info: Info) -> MediaAsset | None:
        return await _media(info, self.logo_id)

    @strawberry.field
    async def visits(self, info: Info) -> list[Visit]:
        rows = await info.context.loaders[loaders.visits_of_enterprises].load(self.pk)
        return [Visit.from_row(row) for row in rows]

    @classmethod
    def from_row(cls, row: models.Enterprise) -> Enterprise:
        location = None
        if row.latitude is not None and row.longitude is not None:
            location = GeoPoint(lat=row.latitude, lon=row.longitude)
        return cls(
            id=global_id("Enterprise", row.pk),
            slug=row.slug,
            name=row.name,
            kind=row.kind,
            description=row.description,
            locality=row.locality,
            address=row.address,
            location=location,
            website=row.website,
            revision=row.revision,
            pk=row.pk,
            region_id=row.region_id,
            logo_id=row.logo_id,
        )
