"""Reading news: filters and orderings of the news list."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from tortoise.connection import get_connection
from tortoise.expressions import Q, Subquery
from tortoise.functions import Count, Sum
from tortoise.queryset import QuerySet, ValuesQuery

from cms.db import placeholders
from cms.errors import InvalidArgumentError
from cms.models import (
    News,
    NewsCount,
    NewsRegion,
    NewsTag,
    PublicationState,
    Region,
    SlugRedirect,
    Tag,
)
from cms.services import surrogate_keys
from cms.services.columns import fits as fits_column
from cms.services.fulltext import RELEVANCE_KEY, matching_q, relevance
from cms.services.pagination import Ordering, SortKey
from cms.services.publishing import PublicationStatus, status_q
from cms.services.viewer import Viewer
from cms.services.visibility import now, visible

MAX_TAGS_IN_FILTER = 50


class NewsOrder(StrEnum):
    PUBLISHED_AT_DESC = "published_at_desc"
    PUBLISHED_AT_ASC = "published_at_asc"
    TITLE_ASC = "title_asc"
    UPDATED_AT_DESC = "updated_at_desc"
    # Best match of filter.search first (needs a search).
    RELEVANCE = "relevance"


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
    # The score is part of the cursor: keyset pages stay exact (ids break ties).
    NewsOrder.RELEVANCE: Ordering(
        "news:relevance", (SortKey(RELEVANCE_KEY, "float", True), _ID_DESC)
    ),
}

TAGS_ORDER = Ordering("tag:name", (SortKey("name", "str"), SortKey("id", "int")))


@dataclass(frozen=True, slots=True)
class NewsFilter:
    tag: str | None = None
    tags: tuple[str, ...] | None = None
    region: str | None = None
    published_after: datetime | None = None
    published_before: datetime | None = None
    search: str | None = None
    # Any of these (staff may ask for several at once); published only by default.
    statuses: tuple[PublicationStatus, ...] = (PublicationStatus.PUBLISHED,)

    def __post_init__(self) -> None:
        if not self.statuses:
            raise InvalidArgumentError("filter.statuses", "Укажите хотя бы один статус.")

    @property
    def published_only(self) -> bool:
        return self.statuses == (PublicationStatus.PUBLISHED,)


def news_ordering(order: NewsOrder, statuses: Collection[PublicationStatus]) -> Ordering:
    """Drafts have no publication time: lists with them are ordered by their last change."""
    if {PublicationStatus.DRAFT, PublicationStatus.ARCHIVED} & set(statuses) and order in (
        NewsOrder.PUBLISHED_AT_DESC,
        NewsOrder.PUBLISHED_AT_ASC,
    ):
        order = NewsOrder.UPDATED_AT_DESC
    return _ORDERINGS[order]


def news_queryset(
    viewer: Viewer, news_filter: NewsFilter, order: NewsOrder | None = None
) -> QuerySet[News]:
    """The visible news matching a filter. Non-staff callers only ever reach
    PUBLISHED news: `visible()` guarantees it whatever the filter says. Ordered by
    RELEVANCE, each row carries its score (the ordering's first key)."""
    statuses = Q(*(status_q(status) for status in news_filter.statuses), join_type=Q.OR)
    queryset = _filtered(visible(News, viewer).filter(statuses), news_filter)
    if order is NewsOrder.RELEVANCE:
        search = news_filter.search
        if search is None or not search.strip():
            raise InvalidArgumentError(
                "orderBy", "Порядок RELEVANCE требует строки поиска в filter.search."
            )
        queryset = queryset.annotate(**{RELEVANCE_KEY: relevance(News, search, "filter.search")})
    return queryset


def _filtered(
    queryset: QuerySet[News], news_filter: NewsFilter, *, join_tag: bool = True
) -> QuerySet[News]:
    """`join_tag=False` selects the news of a tag with a subquery instead of a join:
    for aggregates (a join would make COUNT group per row)."""
    if news_filter.tags is not None and len(news_filter.tags) > MAX_TAGS_IN_FILTER:
        raise InvalidArgumentError(
            "filter.tags", f"Не больше {MAX_TAGS_IN_FILTER} тегов в фильтре."
        )
    if not _can_match(news_filter):
        return queryset.filter(id__in=[])
    if news_filter.tag is not None or news_filter.tags is not None:
        # Tags are named by slug: a renamed or merged tag changes what the filter holds.
        surrogate_keys.record(surrogate_keys.list_key(Tag.__name__))
    if news_filter.tag is not None and not join_tag:
        queryset = queryset.filter(id__in=_news_ids_tagged([news_filter.tag]))
    elif news_filter.tag is not None:
        # One slug names one tag (its own or an old one, see slug_history): a join on
        # the links lets the database walk the news in list order and probe the
        # (news_id, tag_id) index, instead of first listing every news of the tag.
        current, renamed = _tag_ids([news_filter.tag])
        queryset = queryset.filter(
            Q(tag_links__tag_id__in=current) | Q(tag_links__tag_id__in=renamed)
        )
    if news_filter.tags is not None:
        queryset = queryset.filter(id__in=_news_ids_tagged(list(news_filter.tags)))
    if news_filter.region is not None:
        region_ids = Subquery(Region.filter(code=news_filter.region).values("id"))
        queryset = queryset.filter(
            id__in=Subquery(NewsRegion.filter(region_id__in=region_ids).values("news_id"))
        )
    if news_filter.published_after is not None:
        queryset = queryset.filter(published_at__gte=news_filter.published_after)
    if news_filter.published_before is not None:
        queryset = queryset.filter(published_at__lt=news_filter.published_before)
    if news_filter.search is not None:
        queryset = queryset.filter(matching_q(News, news_filter.search, "filter.search"))
    return queryset


def _can_match(news_filter: NewsFilter) -> bool:
    """False when a tag slug or region code is longer than its column: it names nothing
    (an old slug of a tag was once its slug, so the same limit holds)."""
    tags = [news_filter.tag] if news_filter.tag is not None else []
    tags += list(news_filter.tags or ())
    region = news_filter.region
    return all(fits_column(Tag, "slug", slug) for slug in tags) and (
        region is None or fits_column(Region, "code", region)
    )


def news_count(news_filter: NewsFilter) -> Callable[[], Awaitable[int]] | None:
    """The `totalCount` of a news list from the maintained counters (table news_count,
    kept by triggers), or None when the filter needs a real COUNT.

    Counters exist for all news, per tag and per region; they hold the live news
    (PUBLISHED, not trashed, with a publication time), scheduled ones included. The
    visible count is the counter minus the live news whose moment has not come: a
    short range of the (status, deleted_at, published_at, id) index, usually empty.
    That is the same set for every caller, staff or not, when the status asked for
    is PUBLISHED. Other statuses, several tags, dates and search are counted."""
    scope = _count_scope(news_filter)
    if scope is None:
        return None
    counted = scope

    async def count() -> int:
        rows = await _count_query(news_filter, counted)
        return int(rows[0]["total"] or 0) - int(rows[0]["scheduled"] or 0) if rows else 0

    return count


def news_count_query(news_filter: NewsFilter) -> ValuesQuery[Literal[False]] | None:
    """The statement behind `news_count` (one row: the counter's `total` and the
    `scheduled` news to subtract), or None when the filter needs a real COUNT."""
    scope = _count_scope(news_filter)
    return None if scope is None else _count_query(news_filter, scope)


def _count_scope(news_filter: NewsFilter) -> Q | None:
    """The counters a filter's total is read from; None when it needs a real COUNT."""
    if (
        not news_filter.published_only
        or news_filter.published_after is not None
        or news_filter.published_before is not None
        or news_filter.search is not None
        or not _can_match(news_filter)
    ):
        return None
    tags = [news_filter.tag] if news_filter.tag is not None else []
    tags += list(news_filter.tags or ())
    if len(tags) + (news_filter.region is not None) > 1:
        return None
    if tags:
        # A slug names one tag: its own, or (after a rename or a merge) an old one.
        scope = Q(scope="tag") & (
            Q(scope_id__in=Subquery(Tag.filter(slug=tags[0]).values("id")))
            | Q(
                scope_id__in=Subquery(
                    SlugRedirect.filter(content_type="Tag", slug=tags[0]).values("object_id")
                )
            )
        )
    elif news_filter.region is not None:
        scope = Q(
            scope="region",
            scope_id__in=Subquery(Region.filter(code=news_filter.region).values("id")),
        )
    else:
        scope = Q(scope="all", scope_id=0)
    return scope


def _count_query(news_filter: NewsFilter, scope: Q) -> ValuesQuery[Literal[False]]:
    scheduled = _filtered(
        News.filter(
            status=PublicationState.PUBLISHED, deleted_at__isnull=True, published_at__gt=now()
        ),
        news_filter,
        join_tag=False,
    )
    return (
        NewsCount.filter(scope)
        .annotate(total=Sum("n"), scheduled=Subquery(scheduled.annotate(c=Count("id")).values("c")))
        .values("total", "scheduled")
    )


def _news_ids_tagged(slugs: list[str]) -> Subquery:
    # A tag's old slugs (a rename, a merge) still select its news.
    # Tag ids first, then their links through the (tag_id, news_id) index: a join to
    # `tag` under an OR made SQLite scan every link of every tag.
    current, renamed = _tag_ids(slugs)
    return Subquery(NewsTag.filter(Q(tag_id__in=current) | Q(tag_id__in=renamed)).values("news_id"))


def _tag_ids(slugs: list[str]) -> tuple[Subquery, Subquery]:
    """The tags with these slugs now, and those that had them before (a rename, a merge)."""
    return (
        Subquery(Tag.filter(slug__in=slugs).values("id")),
        Subquery(SlugRedirect.filter(content_type="Tag", slug__in=slugs).values("object_id")),
    )


def tag_news_count_query(tag_id: int) -> ValuesQuery[Literal[False]]:
    """`tag_news_counts` of one tag as a query, for the read compiler: one row (none
    without a counter) of the counter's `total` and the tag's `scheduled` news. Records
    what `tag_news_counts` records."""
    surrogate_keys.record(surrogate_keys.list_key(News.__name__))
    scheduled = News.filter(
        status=PublicationState.PUBLISHED,
        deleted_at__isnull=True,
        published_at__gt=now(),
        id__in=Subquery(NewsTag.filter(tag_id=tag_id).values("news_id")),
    )
    return (
        NewsCount.filter(scope="tag", scope_id=tag_id)
        .annotate(total=Sum("n"), scheduled=Subquery(scheduled.annotate(c=Count("id")).values("c")))
        .values("total", "scheduled")
    )


async def tag_news_counts(tag_ids: Sequence[Hashable]) -> dict[Hashable, int]:
    """Published news per tag (`Tag.newsCount`, `tag.news.totalCount`) from the
    maintained counters, minus each tag's scheduled news: one statement, driven by
    the few scheduled rows, whatever the number of news."""
    # Counted without `visible()`: an answer showing the count depends on the news list.
    surrogate_keys.record(surrogate_keys.list_key(News.__name__))
    ids = sorted({int(pk) for pk in tag_ids})  # type: ignore[call-overload]
    if not ids:
        return {}
    (moment, *marks) = placeholders(len(ids) + 1)
    sql = (
        "SELECT c.scope_id AS tag_id, c.n - COALESCE(s.k, 0) AS n FROM news_count c "
        "LEFT JOIN (SELECT l.tag_id, COUNT(*) AS k FROM news n "
        "JOIN news_tag l ON l.news_id = n.id WHERE n.status = 'published' "
        f"AND n.deleted_at IS NULL AND n.published_at > {moment} "
        "GROUP BY l.tag_id) s ON s.tag_id = c.scope_id "
        f"WHERE c.scope = 'tag' AND c.scope_id IN ({', '.join(marks)})"
    )
    rows = await get_connection("default").execute_query_dict(sql, [now(), *ids])
    return {row["tag_id"]: int(row["n"]) for row in rows}
