"""Batch functions of the news area; each costs one SQL statement per batch."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from tortoise.queryset import QuerySet

from cms import models
from cms.services import batches
from cms.services.news import NewsOrder, news_ordering, tag_news_counts
from cms.services.pagination import Page, Window, pages_for_keys
from cms.services.publishing import PublicationStatus, status_q
from cms.services.viewer import Viewer
from cms.services.visibility import visible, visible_q

NEWS_IN_LISTS = news_ordering(NewsOrder.PUBLISHED_AT_DESC, (PublicationStatus.PUBLISHED,))


async def news_by_id(viewer: Viewer, ids: list[int]) -> list[models.News | None]:
    return await batches.by_ids(models.News, viewer, ids)


async def news_by_slug(viewer: Viewer, slugs: list[str]) -> list[models.News | None]:
    return await batches.by_field(models.News, viewer, "slug", slugs)


async def tag_by_id(viewer: Viewer, ids: list[int]) -> list[models.Tag | None]:
    return await batches.by_ids(models.Tag, viewer, ids)


async def tag_by_slug(viewer: Viewer, slugs: list[str]) -> list[models.Tag | None]:
    return await batches.by_field(models.Tag, viewer, "slug", slugs)


@dataclass(frozen=True, slots=True)
class TagRef:
    """What a news item shows of its tags, read as plain values: no Tag and NewsTag
    models (with their timestamps) made for every link of every item on a page."""

    pk: int
    slug: str
    name: str
    revision: int


async def tags_of_news(viewer: Viewer, news_ids: list[int]) -> list[list[TagRef]]:
    """Visible tags of each news item, in link order (one statement)."""
    rows = (
        await models.NewsTag.filter(
            visible_q(models.Tag, viewer, prefix="tag__", via=models.NewsTag),
            news_id__in=set(news_ids),
        )
        .order_by("news_id", "position", "id")
        .values("news_id", "tag_id", slug="tag__slug", name="tag__name", revision="tag__revision")
    )
    grouped: dict[int, list[TagRef]] = defaultdict(list)
    for row in rows:
        grouped[row["news_id"]].append(
            TagRef(row["tag_id"], row["slug"], row["name"], row["revision"])
        )
    return [grouped.get(pk, []) for pk in news_ids]


async def regions_of_news(viewer: Viewer, news_ids: list[int]) -> list[list[models.Region]]:
    return await batches.linked(
        models.NewsRegion, "news", "region", models.Region, viewer, news_ids
    )


async def events_of_news(viewer: Viewer, news_ids: list[int]) -> list[list[models.Event]]:
    return await batches.linked(models.NewsEvent, "news", "event", models.Event, viewer, news_ids)


async def agreements_of_news(viewer: Viewer, news_ids: list[int]) -> list[list[models.Agreement]]:
    return await batches.linked(
        models.NewsAgreement, "news", "agreement", models.Agreement, viewer, news_ids
    )


async def quotes_of_news(viewer: Viewer, news_ids: list[int]) -> list[list[models.Quote]]:
    """Quotes with their (visible) person loaded in the same statement."""
    quotes = (
        await models.Quote.filter(
            visible_q(models.Person, viewer, prefix="person__"), news_id__in=set(news_ids)
        )
        .select_related("person")
        .order_by("news_id", "position", "id")
    )
    grouped: dict[int, list[models.Quote]] = defaultdict(list)
    for quote in quotes:
        grouped[quote.news_id].append(quote)
    return [grouped.get(pk, []) for pk in news_ids]


async def news_count_of_tags(viewer: Viewer, tag_ids: list[int]) -> list[int]:
    """Published news only, whoever asks: equal to `tag.news.totalCount`. From the
    maintained counters (cms/services/news.py), one statement."""
    counts = await tag_news_counts(tag_ids)
    return [counts.get(pk, 0) for pk in tag_ids]


def published_news(viewer: Viewer) -> QuerySet[models.News]:
    return visible(models.News, viewer).filter(status_q(PublicationStatus.PUBLISHED))


async def news_pages_of_tags(
    viewer: Viewer, keys: list[tuple[int, Window]]
) -> list[Page[models.News]]:
    return await pages_for_keys(
        published_news(viewer), "tag_links__tag_id", NEWS_IN_LISTS, keys, count=tag_news_counts
    )


async def news_pages_of_agreements(
    viewer: Viewer, keys: list[tuple[int, Window]]
) -> list[Page[models.News]]:
    return await pages_for_keys(
        published_news(viewer), "agreement_links__agreement_id", NEWS_IN_LISTS, keys
    )


async def news_pages_of_visits(
    viewer: Viewer, keys: list[tuple[int, Window]]
) -> list[Page[models.News]]:
    return await pages_for_keys(published_news(viewer), "visit_id", NEWS_IN_LISTS, keys)
