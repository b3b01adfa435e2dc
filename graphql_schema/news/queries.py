"""Root query fields of the news area."""

from __future__ import annotations

from datetime import datetime

import strawberry

from cms import models
from cms.services import fulltext
from cms.services.news import TAGS_ORDER, news_count, news_ordering, news_queryset
from cms.services.news import NewsFilter as DomainNewsFilter
from cms.services.news import NewsOrder as DomainNewsOrder
from cms.services.pagination import paginate
from cms.services.publishing import PublicationStatus as DomainPublicationStatus
from cms.services.visibility import visible
from graphql_schema.common import PublicationStatus
from graphql_schema.content.types import News, Tag
from graphql_schema.context import Info
from graphql_schema.errors import bad_input
from graphql_schema.lookups import lookup_field
from graphql_schema.news import dataloaders as loaders
from graphql_schema.permissions import require_drafts
from graphql_schema.relay import Connection, connection, page_window

# Domain enums are the GraphQL enums: strawberry.enum registers the class in place
# (a plain alias, so that annotations stay types for mypy).
NewsOrder = DomainNewsOrder
strawberry.enum(NewsOrder, name="NewsOrder")


@strawberry.input
class NewsFilter:
    tag: str | None = strawberry.field(default=None, description="A tag slug.")
    tags: list[str] | None = strawberry.field(default=None, description="Any of these slugs.")
    region: str | None = strawberry.field(default=None, description="A region code.")
    published_after: datetime | None = None
    published_before: datetime | None = None
    search: str | None = None
    status: PublicationStatus | None = strawberry.field(
        default=None, description="Staff only; others always get PUBLISHED."
    )
    statuses: list[PublicationStatus] | None = strawberry.field(
        default=None,
        description=(
            "Several statuses at once, e.g. [DRAFT, SCHEDULED, PUBLISHED]; instead of "
            "`status`, not with it. Staff only beyond PUBLISHED."
        ),
    )

    def to_domain(self) -> DomainNewsFilter:
        # `status` stays as it was for the clients that use it; `statuses` came later.
        if self.status is not None and self.statuses is not None:
            raise bad_input("filter.statuses", "Укажите либо status, либо statuses, но не оба.")
        if self.statuses is not None:
            statuses = tuple(dict.fromkeys(self.statuses))  # each once, in the order given
        else:
            statuses = (self.status or DomainPublicationStatus.PUBLISHED,)
        return DomainNewsFilter(
            tag=self.tag,
            tags=tuple(self.tags) if self.tags is not None else None,
            region=self.region,
            published_after=self.published_after,
            published_before=self.published_before,
            search=self.search,
            statuses=statuses,
        )


@strawberry.type
class NewsQueries:
    @strawberry.field(description="News, newest first by default.")
    async def news(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: NewsFilter | None = None,
        order_by: NewsOrder = DomainNewsOrder.PUBLISHED_AT_DESC,
    ) -> Connection[News]:
        news_filter = filter.to_domain() if filter else DomainNewsFilter()
        if not news_filter.published_only:
            require_drafts(info.context.viewer, "Фильтр по статусу")
        ordering = news_ordering(order_by, news_filter.statuses)
        window = page_window(info, ordering, first=first, after=after, last=last, before=before)
        queryset = news_queryset(info.context.viewer, news_filter, order_by)
        page = await paginate(queryset, ordering, window, count=news_count(news_filter))
        return connection(page, News.from_row)

    news_item = lookup_field(
        "News",
        News,
        loaders.news_by_id,
        loaders.news_by_slug,
        "One news item by id or slug; null when none is visible.",
    )

    @strawberry.field(description="Tags by name.")
    async def tags(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        search: str | None = None,
    ) -> Connection[Tag]:
        window = page_window(info, TAGS_ORDER, first=first, after=after, last=last, before=before)
        queryset = visible(models.Tag, info.context.viewer)
        if search is not None:
            queryset = queryset.filter(fulltext.matching_q(models.Tag, search, "search"))
        return connection(await paginate(queryset, TAGS_ORDER, window), Tag.from_row)

    @strawberry.field(description="A tag by slug; null when there is none.")
    async def tag(self, info: Info, slug: str) -> Tag | None:
        row = await info.context.loaders[loaders.tag_by_slug].load(slug)
        return Tag.from_row(row) if row else None
