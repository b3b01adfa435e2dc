"""What feeds and sitemaps hold: the public news of a scope, newest first, and the
public items of each type in id order, read in a fixed number of statements.

Feeds and sitemaps are anonymous: they read through `visibility` as ANONYMOUS, so
a draft, a scheduled item before its time or a trashed item never reaches them,
and a scheduled item appears at its time with no job to run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tortoise.expressions import Q
from tortoise.models import Model

from cms.models import ActionPlan, Agreement, Enterprise, News, NewsTag, Region, Tag
from cms.services import urls
from cms.services.content_types import TAG
from cms.services.news import NewsFilter, news_count, news_queryset
from cms.services.slug_history import redirect_targets
from cms.services.viewer import ANONYMOUS
from cms.services.visibility import visible, visible_q
from cms.settings import Settings

# The sitemap protocol's limit of URLs per file.
SITEMAP_PAGE_SIZE = 50_000
# Rows read per statement while a sitemap page is written: memory stays flat.
_SITEMAP_CHUNK = 2_000


class ScopeKind(StrEnum):
    ALL = "all"
    TAG = "tag"
    REGION = "region"
    AGREEMENT = "agreement"


@dataclass(frozen=True, slots=True)
class FeedScope:
    """Which news a feed holds. `key` is the slug or code in the URL."""

    kind: ScopeKind
    key: str = ""
    title: str = ""
    pk: int = 0

    @property
    def surrogate_key(self) -> str:
        """The CDN key of the scope's own object, or "" for all news."""
        names = {ScopeKind.TAG: "Tag", ScopeKind.REGION: "Region", ScopeKind.AGREEMENT: "Agreement"}
        return f"{names[self.kind]}:{self.pk}" if self.kind in names else ""


ALL_NEWS = FeedScope(ScopeKind.ALL)


@dataclass(frozen=True, slots=True)
class FeedImage:
    storage_key: str
    sha256: str
    mime_type: str
    size: int
    width: int | None
    height: int | None
    alt: str | None


@dataclass(frozen=True, slots=True)
class FeedEntry:
    pk: int
    slug: str
    title: str
    lead: str | None
    body_html: str
    body_text: str
    published_at: datetime
    updated_at: datetime
    tags: tuple[tuple[str, str], ...]  # (name, slug) in the item's order
    cover: FeedImage | None


async def feed_scope(kind: ScopeKind, key: str) -> FeedScope | None:
    """The scope named in a feed URL, or None when nothing public has that name.
    One statement (two for a tag known only by an old slug)."""
    if kind is ScopeKind.ALL:
        return ALL_NEWS
    if kind is ScopeKind.REGION:
        region = await Region.filter(code=key).first().values("id", "name")
        return FeedScope(kind, key, region["name"], region["id"]) if region else None
    if kind is ScopeKind.AGREEMENT:
        row = await visible(Agreement, ANONYMOUS).filter(slug=key).first().values("id", "title")
        return FeedScope(kind, key, row["title"], row["id"]) if row else None
    tag = await visible(Tag, ANONYMOUS).filter(slug=key).first().values("id", "name")
    if tag is None:
        # A renamed or merged tag keeps its feed under the old slug.
        old = (await redirect_targets(TAG, [key])).get(key)
        if old is not None:
            tag = await visible(Tag, ANONYMOUS).filter(id=old).first().values("id", "name")
    return FeedScope(kind, key, tag["name"], tag["id"]) if tag else None


_ENTRY_COLUMNS = (
    "id",
    "slug",
    "title",
    "lead",
    "body_html",
    "body_text",
    "published_at",
    "updated_at",
    "cover__storage_key",
    "cover__sha256",
    "cover__mime_type",
    "cover__size",
    "cover__width",
    "cover__height",
    "cover__alt",
)


async def feed_entries(scope: FeedScope, limit: int) -> list[FeedEntry]:
    """The newest `limit` public news of the scope: two statements, whatever the length
    (the news with their covers, then the tags of all of them)."""
    if scope.kind is ScopeKind.AGREEMENT:
        queryset = news_queryset(ANONYMOUS, NewsFilter()).filter(
            agreement_links__agreement_id=scope.pk
        )
    else:
        news_filter = NewsFilter(
            tag=scope.key if scope.kind is ScopeKind.TAG else None,
            region=scope.key if scope.kind is ScopeKind.REGION else None,
        )
        queryset = news_queryset(ANONYMOUS, news_filter)
    rows = await queryset.order_by("-published_at", "-id").limit(limit).values(*_ENTRY_COLUMNS)
    tags = await _tags_of([row["id"] for row in rows])
    return [
        FeedEntry(
            pk=row["id"],
            slug=row["slug"],
            title=row["title"],
            lead=row["lead"],
            body_html=row["body_html"],
            body_text=row["body_text"],
            published_at=row["published_at"],
            updated_at=row["updated_at"],
            tags=tuple(tags.get(row["id"], ())),
            cover=_image(row),
        )
        for row in rows
    ]


def _image(row: dict[str, object]) -> FeedImage | None:
    if row["cover__storage_key"] is None:
        return None
    return FeedImage(
        storage_key=str(row["cover__storage_key"]),
        sha256=str(row["cover__sha256"]),
        mime_type=str(row["cover__mime_type"]),
        size=int(row["cover__size"]),  # type: ignore[call-overload]
        width=row["cover__width"],  # type: ignore[arg-type]
        height=row["cover__height"],  # type: ignore[arg-type]
        alt=row["cover__alt"],  # type: ignore[arg-type]
    )


async def _tags_of(news_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    if not news_ids:
        return {}
    rows = (
        await NewsTag.filter(
            visible_q(Tag, ANONYMOUS, prefix="tag__", via=NewsTag), news_id__in=news_ids
        )
        .order_by("news_id", "position", "id")
        .values_list("news_id", "tag__name", "tag__slug")
    )
    tags: dict[int, list[tuple[str, str]]] = {}
    for news_id, name, slug in rows:
        tags.setdefault(news_id, []).append((name, slug))
    return tags


async def feed_directory(settings: Settings) -> list[tuple[str, dict[str, str]]]:
    """Every feed there is, with a label: all news, each public tag, each region with
    news, each public agreement (`python -m cms feeds`)."""
    directory = [("Все новости", urls.feed_urls(settings, "news"))]
    for slug, name in await visible(Tag, ANONYMOUS).order_by("name").values_list("slug", "name"):
        directory.append((f"Тег «{name}»", urls.feed_urls(settings, f"tags/{slug}")))
    regions = Region.filter(news_links__id__isnull=False).distinct().order_by("code")
    for code, name in await regions.values_list("code", "name"):
        directory.append((f"Регион {name}", urls.feed_urls(settings, f"regions/{code}")))
    agreements = visible(Agreement, ANONYMOUS).order_by("title").values_list("slug", "title")
    for slug, title in await agreements:
        directory.append((f"Соглашение «{title}»", urls.feed_urls(settings, f"agreements/{slug}")))
    return directory


# ---------------------------------------------------------------- sitemaps


class SitemapKind(StrEnum):
    NEWS = "news"
    AGREEMENTS = "agreements"
    ACTION_PLANS = "action-plans"
    ENTERPRISES = "enterprises"


_SITEMAP_MODELS: dict[SitemapKind, type[Model]] = {
    SitemapKind.NEWS: News,
    SitemapKind.AGREEMENTS: Agreement,
    SitemapKind.ACTION_PLANS: ActionPlan,
    SitemapKind.ENTERPRISES: Enterprise,
}
_SITEMAP_URLS = {
    SitemapKind.NEWS: urls.news_url,
    SitemapKind.AGREEMENTS: urls.agreement_url,
    SitemapKind.ACTION_PLANS: urls.action_plan_url,
    SitemapKind.ENTERPRISES: urls.enterprise_url,
}


@dataclass(frozen=True, slots=True)
class SitemapFile:
    kind: SitemapKind
    page: int  # from 1
    lastmod: datetime | None


async def sitemap_files() -> list[SitemapFile]:
    """The files of the sitemap index: each type's public items, 50,000 to a file.
    Two statements per type, neither reading every row: news are counted by the
    maintained counters (cms/services/news.py), the other types are small; the last
    change is the first visible row down the (updated_at, id) index."""
    files: list[SitemapFile] = []
    for kind, model in _SITEMAP_MODELS.items():
        queryset = visible(model, ANONYMOUS)
        counter = news_count(NewsFilter()) if model is News else None
        count = await counter() if counter is not None else await queryset.count()
        last = await queryset.order_by("-updated_at", "-id").first().values("updated_at")
        lastmod = last["updated_at"] if last else None
        pages = max(1, -(-count // SITEMAP_PAGE_SIZE))
        files.extend(SitemapFile(kind, page, lastmod) for page in range(1, pages + 1))
    return files


async def sitemap_urls(
    settings: Settings, kind: SitemapKind, page: int
) -> AsyncIterator[tuple[str, datetime]]:
    """(front-end URL, last change) of the public items on one sitemap page, in id
    order, read 2,000 rows at a time through the primary key."""
    model = _SITEMAP_MODELS[kind]
    url = _SITEMAP_URLS[kind]
    start = await (
        visible(model, ANONYMOUS)
        .order_by("id")
        .offset((page - 1) * SITEMAP_PAGE_SIZE)
        .limit(1)
        .values_list("id", flat=True)
    )
    if not start:
        return
    after = Q(id__gte=start[0])
    remaining = SITEMAP_PAGE_SIZE
    while remaining > 0:
        rows = (
            await visible(model, ANONYMOUS)
            .filter(after)
            .order_by("id")
            .limit(min(_SITEMAP_CHUNK, remaining))
            .values_list("id", "slug", "updated_at")
        )
        for _, slug, updated_at in rows:
            yield url(settings, slug), updated_at
        if len(rows) < _SITEMAP_CHUNK:
            return
        remaining -= len(rows)
        after = Q(id__gt=rows[-1][0])


def sitemap_file(files: list[SitemapFile], kind: SitemapKind, page: int) -> SitemapFile | None:
    return next((f for f in files if f.kind is kind and f.page == page), None)
