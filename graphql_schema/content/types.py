"""News and cooperation content as the API shows it.

The plain fields of each type and its `from_row` come from its declaration
(graphql_schema/content/declared.py); what is written here is what needs code of
its own: relations read through the request's loaders, URLs, counts. The news and
cooperation types refer to each other, so they live in this one module.
"""

from __future__ import annotations

import strawberry

from cms import models
from cms.models import cooperation as declared_cooperation
from cms.models import news as declared_news
from cms.services import richtext, urls
from cms.services.cooperation import ENTERPRISES_ORDER
from graphql_schema.common import media
from graphql_schema.content.declared import output_base
from graphql_schema.context import Info
from graphql_schema.cooperation import dataloaders as loaders
from graphql_schema.media.dataloaders import documents_of_agreements
from graphql_schema.media.types import MediaAsset
from graphql_schema.news import dataloaders as news_loaders
from graphql_schema.relay import Connection, Node, connection, global_id, page_window
from graphql_schema.syndication import FeedLinks

NEWS = declared_news.NEWS
AGREEMENT = declared_cooperation.AGREEMENT
ACTION_PLAN = declared_cooperation.ACTION_PLAN


@strawberry.type(description="A region (ISO 3166-2): reference data, not edited in the API.")
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


# ---------------------------------------------------------------- news


@strawberry.type(description=declared_news.TAG.description)
class Tag(output_base(declared_news.TAG)):  # type: ignore[misc]
    @strawberry.field(description="Published news with this tag.")
    async def news_count(self, info: Info) -> int:
        return await info.context.loaders[news_loaders.news_count_of_tags].load(self.pk)

    @strawberry.field(description="Published news with this tag, newest first.")
    async def news(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[News]:
        window = page_window(info, news_loaders.NEWS_IN_LISTS, first=first, after=after)
        page = await info.context.loaders[news_loaders.news_pages_of_tags].load((self.pk, window))
        return connection(page, News.from_row)

    @strawberry.field(description="Feeds of the tag's news.")
    def feeds(self, info: Info) -> FeedLinks:
        return FeedLinks.of(info.context.settings, f"tags/{self.slug}")


@strawberry.type(description=NEWS.field("quotes").doc)
class Quote:
    text: str = strawberry.field(description="As it stands in the text.")
    person_row: strawberry.Private[models.Person]

    @strawberry.field(description="Who said it.")
    def person(self) -> Person:
        person: Person = Person.from_row(self.person_row)
        return person


@strawberry.type(description=NEWS.description)
class News(output_base(NEWS)):  # type: ignore[misc]
    @strawberry.field(description="Canonical front-end URL.")
    def url(self, info: Info) -> str:
        return urls.news_url(info.context.settings, self.slug)

    @strawberry.field(description="Minutes a reader needs for the body, at least one.")
    def reading_time_minutes(self) -> int:
        return richtext.reading_time_minutes(self.body_text)

    @strawberry.field(description="The cover image.")
    async def cover(self, info: Info) -> MediaAsset | None:
        return await media(info, self.cover_id)

    @strawberry.field(description="Its tags, in the editors' order.")
    async def tags(self, info: Info) -> list[Tag]:
        rows = await info.context.loaders[news_loaders.tags_of_news].load(self.pk)
        return [Tag.from_row(row) for row in rows]

    @strawberry.field(description="The regions it is about.")
    async def regions(self, info: Info) -> list[Region]:
        rows = await info.context.loaders[news_loaders.regions_of_news].load(self.pk)
        return [Region.from_row(row) for row in rows]

    @strawberry.field(description="Quotes of people, in the order of the text.")
    async def quotes(self, info: Info) -> list[Quote]:
        rows = await info.context.loaders[news_loaders.quotes_of_news].load(self.pk)
        return [Quote(text=row.text, person_row=row.person) for row in rows]

    @strawberry.field(description="Events it reports on.")
    async def events(self, info: Info) -> list[Event]:
        rows = await info.context.loaders[news_loaders.events_of_news].load(self.pk)
        return [Event.from_row(row) for row in rows]

    @strawberry.field(description="Agreements it cites.")
    async def agreements(self, info: Info) -> list[Agreement]:
        rows = await info.context.loaders[news_loaders.agreements_of_news].load(self.pk)
        return [Agreement.from_row(row) for row in rows]

    @strawberry.field(description="The visit it is about.")
    async def visit(self, info: Info) -> Visit | None:
        if self.visit_id is None:
            return None
        row = await info.context.loaders[loaders.visit_by_id].load(self.visit_id)
        return Visit.from_row(row) if row else None


# ---------------------------------------------------------------- cooperation


@strawberry.type(description=declared_cooperation.ORGANIZATION.description)
class Organization(output_base(declared_cooperation.ORGANIZATION)):  # type: ignore[misc]
    @strawberry.field(description="Where it is based.")
    async def region(self, info: Info) -> Region | None:
        return await _region(info, self.region_id)


async def _organization(info: Info, organization_id: int | None) -> Organization | None:
    if organization_id is None:
        return None
    row = await info.context.loaders[loaders.organization_by_id].load(organization_id)
    return Organization.from_row(row) if row else None


@strawberry.type(description=declared_cooperation.PERSON.description)
class Person(output_base(declared_cooperation.PERSON)):  # type: ignore[misc]
    @strawberry.field(description="Where the person works.")
    async def organization(self, info: Info) -> Organization | None:
        return await _organization(info, self.organization_id)

    @strawberry.field(description="A portrait.")
    async def photo(self, info: Info) -> MediaAsset | None:
        return await media(info, self.photo_id)


@strawberry.type(description=declared_cooperation.DIRECTION.description)
class CooperationDirection(output_base(declared_cooperation.DIRECTION)):  # type: ignore[misc]
    pass


@strawberry.type(description=declared_cooperation.EVENT.description)
class Event(output_base(declared_cooperation.EVENT)):  # type: ignore[misc]
    pass


@strawberry.type(description=AGREEMENT.description)
class Agreement(output_base(AGREEMENT)):  # type: ignore[misc]
    @strawberry.field(description="Canonical front-end URL.")
    def url(self, info: Info) -> str:
        return urls.agreement_url(info.context.settings, self.slug)

    @strawberry.field(description="The parties, in the order of the text.")
    async def parties(self, info: Info) -> list[Organization]:
        rows = await info.context.loaders[loaders.parties_of_agreements].load(self.pk)
        return [Organization.from_row(row) for row in rows]

    @strawberry.field(description="The signed documents.")
    async def documents(self, info: Info) -> list[MediaAsset]:
        rows = await info.context.loaders[documents_of_agreements].load(self.pk)
        return [MediaAsset.from_row(row) for row in rows]

    @strawberry.field(description="Its action plans, by period.")
    async def action_plans(self, info: Info) -> list[ActionPlan]:
        rows = await info.context.loaders[loaders.action_plans_of_agreements].load(self.pk)
        return [ActionPlan.from_row(row) for row in rows]

    @strawberry.field(description="Published news that cite the agreement, newest first.")
    async def news(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[News]:
        window = page_window(info, news_loaders.NEWS_IN_LISTS, first=first, after=after)
        page = await info.context.loaders[news_loaders.news_pages_of_agreements].load(
            (self.pk, window)
        )
        return connection(page, News.from_row)

    @strawberry.field(description="Feeds of news about the agreement.")
    def feeds(self, info: Info) -> FeedLinks:
        return FeedLinks.of(info.context.settings, f"agreements/{self.slug}")


@strawberry.type(description=ACTION_PLAN.field("items").doc)
class ActionPlanItem(
    output_base(  # type: ignore[misc]
        ACTION_PLAN,
        ACTION_PLAN.field("items").parts,
        name="ActionPlanItem",
        publishable=False,
        revision=False,
    )
):
    @strawberry.field(description="The direction of cooperation the item belongs to.")
    async def direction(self, info: Info) -> CooperationDirection | None:
        if self.direction_id is None:
            return None
        row = await info.context.loaders[loaders.direction_by_id].load(self.direction_id)
        return CooperationDirection.from_row(row) if row else None

    @strawberry.field(description="The event that carries the item out.")
    async def event(self, info: Info) -> Event | None:
        if self.event_id is None:
            return None
        row = await info.context.loaders[loaders.event_by_id].load(self.event_id)
        return Event.from_row(row) if row else None


@strawberry.type(description=ACTION_PLAN.description)
class ActionPlan(output_base(ACTION_PLAN)):  # type: ignore[misc]
    @strawberry.field(description="Canonical front-end URL.")
    def url(self, info: Info) -> str:
        return urls.action_plan_url(info.context.settings, self.slug)

    @strawberry.field(description="The agreement the plan implements.")
    async def agreement(self, info: Info) -> Agreement:
        row = await info.context.loaders[loaders.agreement_by_id].load(self.agreement_id)
        if row is None:  # never: a plan is only visible while its agreement is
            raise LookupError(f"the agreement of visible action plan {self.pk} is hidden")
        agreement: Agreement = Agreement.from_row(row)
        return agreement

    @strawberry.field(description="Who signed the plan.")
    async def signatories(self, info: Info) -> list[Person]:
        rows = await info.context.loaders[loaders.signatories_of_plans].load(self.pk)
        return [Person.from_row(row) for row in rows]

    @strawberry.field(description="Directions of cooperation the plan covers.")
    async def directions(self, info: Info) -> list[CooperationDirection]:
        rows = await info.context.loaders[loaders.directions_of_plans].load(self.pk)
        return [CooperationDirection.from_row(row) for row in rows]

    @strawberry.field(description="The items, in order.")
    async def items(self, info: Info) -> list[ActionPlanItem]:
        rows = await info.context.loaders[loaders.items_of_plans].load(self.pk)
        return [ActionPlanItem.from_row(row) for row in rows]

    @strawberry.field(description="Visits made under the plan.")
    async def visits(self, info: Info) -> list[Visit]:
        rows = await info.context.loaders[loaders.visits_of_plans].load(self.pk)
        return [Visit.from_row(row) for row in rows]

    @strawberry.field(description="Every enterprise of its visits, once, in visiting order.")
    async def visited_enterprises(self, info: Info) -> list[Enterprise]:
        rows = await info.context.loaders[loaders.visited_enterprises_of_plans].load(self.pk)
        return [Enterprise.from_row(row) for row in rows]


@strawberry.type(description=declared_cooperation.VISIT.description)
class Visit(output_base(declared_cooperation.VISIT)):  # type: ignore[misc]
    @strawberry.field(description="Where the delegation came from.")
    async def delegation_region(self, info: Info) -> Region:
        region = await _region(info, self.delegation_region_id)
        assert region is not None  # regions are reference data, never hidden
        return region

    @strawberry.field(description="The region that hosted it.")
    async def host_region(self, info: Info) -> Region:
        region = await _region(info, self.host_region_id)
        assert region is not None  # regions are reference data, never hidden
        return region

    @strawberry.field(description="Who organised it.")
    async def organizer(self, info: Info) -> Organization | None:
        return await _organization(info, self.organizer_id)

    @strawberry.field(description="The action plan it belongs to.")
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
    ) -> Connection[News]:
        window = page_window(info, news_loaders.NEWS_IN_LISTS, first=first, after=after)
        page = await info.context.loaders[news_loaders.news_pages_of_visits].load((self.pk, window))
        return connection(page, News.from_row)


@strawberry.type(description=declared_cooperation.ENTERPRISE.description)
class Enterprise(output_base(declared_cooperation.ENTERPRISE)):  # type: ignore[misc]
    @strawberry.field(description="Canonical front-end URL.")
    def url(self, info: Info) -> str:
        return urls.enterprise_url(info.context.settings, self.slug)

    @strawberry.field(description="Its industries, in order.")
    async def industries(self, info: Info) -> list[str]:
        return await info.context.loaders[loaders.industries_of_enterprises].load(self.pk)

    @strawberry.field(description="Where it is.")
    async def region(self, info: Info) -> Region | None:
        return await _region(info, self.region_id)

    @strawberry.field(description="Its logo.")
    async def logo(self, info: Info) -> MediaAsset | None:
        return await media(info, self.logo_id)

    @strawberry.field(description="Visits that saw it.")
    async def visits(self, info: Info) -> list[Visit]:
        rows = await info.context.loaders[loaders.visits_of_enterprises].load(self.pk)
        return [Visit.from_row(row) for row in rows]
