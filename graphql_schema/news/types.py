"""News, tags and quotes as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from cms import models
from cms.services import richtext, urls
from cms.services.publishing import publication_status
from graphql_schema.common import PublicationStatus, RichText
from graphql_schema.context import Info
from graphql_schema.media.dataloaders import media_by_id
from graphql_schema.media.types import MediaAsset
from graphql_schema.news import dataloaders as loaders
from graphql_schema.relay import Connection, Node, connection, global_id, page_window
from graphql_schema.syndication import FeedLinks

# The news and cooperation areas refer to each other: module imports (resolved at
# call time) and lazy annotations (resolved when the schema is built).
from graphql_schema.cooperation import dataloaders as cooperation_loaders  # isort: skip
from graphql_schema.cooperation import types as cooperation  # isort: skip

if TYPE_CHECKING:
    from graphql_schema.cooperation.types import Agreement, Event, Person, Region, Visit

_COOPERATION = "graphql_schema.cooperation.types"


@strawberry.type
class Tag(Node):
    id: strawberry.ID
    slug: str = strawberry.field(description='Transliterated Latin, e.g. "sotrudnichestvo".')
    name: str = strawberry.field(description='As editors wrote it, e.g. "сотрудничество".')
    pk: strawberry.Private[int]

    @strawberry.field(description="Published news with this tag.")
    async def news_count(self, info: Info) -> int:
        return await info.context.loaders[loaders.news_count_of_tags].load(self.pk)

    @strawberry.field(description="Published news with this tag, newest first.")
    async def news(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[News]:
        window = page_window(info, loaders.NEWS_IN_LISTS, first=first, after=after)
        page = await info.context.loaders[loaders.news_pages_of_tags].load((self.pk, window))
        return connection(page, News.from_row)

    @strawberry.field(description="Feeds of the tag's news.")
    def feeds(self, info: Info) -> FeedLinks:
        return FeedLinks.of(info.context.settings, f"tags/{self.slug}")

    @classmethod
    def from_row(cls, row: models.Tag | loaders.TagRef) -> Tag:
        return cls(id=global_id("Tag", row.pk), slug=row.slug, name=row.name, pk=row.pk)


@strawberry.type
class Quote:
    text: str
    person_row: strawberry.Private[models.Person]

    @strawberry.field
    def person(self) -> Annotated[Person, strawberry.lazy(_COOPERATION)]:
        return cooperation.Person.from_row(self.person_row)


@strawberry.type
class News(Node):
    id: strawberry.ID
    slug: str
    title: str
    lead: str | None
    status: PublicationStatus
    published_at: datetime | None
    updated_at: datetime
    revision: int = strawberry.field(
        description="Grows with every change; send it as expectedRevision."
    )
    pk: strawberry.Private[int]
    body_html: strawberry.Private[str]
    body_text: strawberry.Private[str]
    cover_id: strawberry.Private[int | None]
    visit_id: strawberry.Private[int | None]

    @strawberry.field
    def body(self) -> RichText:
        return RichText(html=self.body_html, text=self.body_text)

    @strawberry.field(description="Canonical front-end URL.")
    def url(self, info: Info) -> str:
        return urls.news_url(info.context.settings, self.slug)

    @strawberry.field
    def reading_time_minutes(self) -> int:
        return richtext.reading_time_minutes(self.body_text)

    @strawberry.field
    async def cover(self, info: Info) -> MediaAsset | None:
        if self.cover_id is None:
            return None
        row = await info.context.loaders[media_by_id].load(self.cover_id)
        return MediaAsset.from_row(row) if row else None

    @strawberry.field
    async def tags(self, info: Info) -> list[Tag]:
        rows = await info.context.loaders[loaders.tags_of_news].load(self.pk)
        return [Tag.from_row(row) for row in rows]

    @strawberry.field
    async def regions(self, info: Info) -> list[Annotated[Region, strawberry.lazy(_COOPERATION)]]:
        rows = await info.context.loaders[loaders.regions_of_news].load(self.pk)
        return [cooperation.Region.from_row(row) for row in rows]

    @strawberry.field
    async def quotes(self, info: Info) -> list[Quote]:
        rows = await info.context.loaders[loaders.quotes_of_news].load(self.pk)
        return [Quote(text=row.text, person_row=row.person) for row in rows]

    @strawberry.field
    async def events(self, info: Info) -> list[Annotated[Event, strawberry.lazy(_COOPERATION)]]:
        rows = await info.context.loaders[loaders.events_of_news].load(self.pk)
        return [cooperation.Event.from_row(row) for row in rows]

    @strawberry.field
    async def agreements(
        self, info: Info
    ) -> list[Annotated[Agreement, strawberry.lazy(_COOPERATION)]]:
        rows = await info.context.loaders[loaders.agreements_of_news].load(self.pk)
        return [cooperation.Agreement.from_row(row) for row in rows]

    @strawberry.field
    async def visit(self, info: Info) -> Annotated[Visit, strawberry.lazy(_COOPERATION)] | None:
        if self.visit_id is None:
            return None
        row = await info.context.loaders[cooperation_loaders.visit_by_id].load(self.visit_id)
        return cooperation.Visit.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: models.News) -> News:
        return cls(
            id=global_id("News", row.pk),
            slug=row.slug,
            title=row.title,
            lead=row.lead,
            status=publication_status(row),
            published_at=row.published_at,
            updated_at=row.updated_at,
            revision=row.revision,
            pk=row.pk,
            body_html=row.body_html,
            body_text=row.body_text,
            cover_id=row.cover_id,
            visit_id=row.visit_id,
        )
