"""Reading news: filters and orderings of the news list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from cms.errors import InvalidArgumentError
from cms.models import News, NewsRegion, NewsTag, SlugRedirect
from cms.services.pagination import Ordering, SortKey
from cms.services.publishing import PublicationStatus, status_q
from cms.services.search import search_q
from cms.services.viewer import Viewer
from cms.services.visibility import visible

MAX_TAGS_IN_FILTER = 50


class NewsOrder(StrEnum):
    PUBLISHED_AT_DESC = "published_at_desc"
    PUBLISHED_AT_ASC = "published_at_asc"
    TITLE_ASC = "title_asc"
    UPDATED_AT_DESC = "updated_at_desc"


_ID_DESC = SortKey("id", "int", descending=True)
_ID_ASC = SortKey("id", "int")
_ORDERINGS = {
    NewsOrder.PUBLISHED_AT_DESC: Ordering(
        "news:published_at_desc", (SortKey("published_at", "datetime", True), _ID_DESC)
    ),
    NewsOrder.PUBLISHED_AT_ASC: Ordering(
        "news:published_at_asc", (SortKey("published_at", "datetime"), _ID_ASC)
    ),
    NewsOrder.TITLE_ASC: Ordering("news:title_asc", (SortKey("title", "str"), _ID_ASC)),
    NewsOrder.UPDATED_AT_DESC: Ordering(
        "news:updated_at_desc", (SortKey("updated_at", "datetime", True), _ID_DESC)
    ),
}


@dataclass(frozen=True, slots=True)
class NewsFilter:
    tag: str | None = None
    tags: tuple[str, ...] | None = None
    region: str | None = None
    published_after: datetime | None = None
    published_before: datetime | None = None
    search: str | None = None
    status: PublicationStatus = PublicationStatus.PUBLISHED


def news_ordering(order: NewsOrder, status: PublicationStatus) -> Ordering:
    """Drafts have no publication time: lists of them are ordered by their last change."""
    if status in (PublicationStatus.DRAFT, PublicationStatus.ARCHIVED) and order in (
        NewsOrder.PUBLISHED_AT_DESC,
        NewsOrder.PUBLISHED_AT_ASC,
    ):
        order = NewsOrder.UPDATED_AT_DESC
    return _ORDERINGS[order]


def news_queryset(viewer: Viewer, news_filter: NewsFilter) -> QuerySet[News]:
    """The visible news matching a filter. Non-staff callers only ever reach
    PUBLISHED news: `visible()` guarantees it whatever the filter says."""
    queryset = visible(News, viewer).filter(status_q(news_filter.status))
    if news_filter.tag is not None:
        queryset = queryset.filter(id__in=_news_ids_tagged([news_filter.tag]))
    if news_filter.tags is not None:
        if len(news_filter.tags) > MAX_TAGS_IN_FILTER:
            raise InvalidArgumentError(
                "filter.tags", f"Не больше {MAX_TAGS_IN_FILTER} тегов в фильтре."
            )
        queryset = queryset.filter(id__in=_news_ids_tagged(list(news_filter.tags)))
    if news_filter.region is not None:
        queryset = queryset.filter(
            id__in=Subquery(NewsRegion.filter(region__code=news_filter.region).values("news_id"))
        )
    if news_filter.published_after is not None:
        queryset = queryset.filter(published_at__gte=news_filter.published_after)
    if news_filter.published_before is not None:
        queryset = queryset.filter(published_at__lt=news_filter.published_before)
    if news_filter.search is not None:
        queryset = queryset.filter(search_q(news_filter.search))
    return queryset


def _news_ids_tagged(slugs: list[str]) -> Subquery:
    # A tag's old slugs (a rename, a merge) still select its news.
    renamed = Subquery(SlugRedirect.filter(content_type="Tag", slug__in=slugs).values("object_id"))
    return Subquery(
        NewsTag.filter(Q(tag__slug__in=slugs) | Q(tag_id__in=renamed)).values("news_id")
    )
