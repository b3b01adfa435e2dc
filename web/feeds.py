"""Feeds and sitemaps for integrators: RSS 2.0, Atom 1.0 and JSON Feed 1.1 of all
news, a tag, a region or an agreement; a sitemap index with per-type sitemaps.

RSS and Atom are written by feedgen (web/feed_xml.py, imported with the first such
feed: feedgen and lxml are about 4 MiB in every process); JSON Feed is a JSON
document built as data. Answers are public: a strong ETag and Last-Modified (304 on
a match), the same Cache-Control and surrogate keys as public GraphQL GETs, and the
response cache, which every content change voids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from io import BytesIO
from typing import Any
from xml.sax.saxutils import XMLGenerator
from xml.sax.xmlreader import AttributesImpl

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cms.errors import Code
from cms.services import surrogate_keys, syndication, urls
from cms.services.syndication import FeedEntry, FeedScope, ScopeKind, SitemapKind
from cms.settings import Settings
from media import renditions
from media.service import media_url
from web import http_cache
from web.response_cache import CachedResponse, ResponseCache
from web.responses import error_response

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
# Feed readers show a cover at about this width; JPEG, which every reader takes.
COVER_WIDTH = 1280

MEDIA_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
XML = "application/xml; charset=utf-8"
_NO_ATTRIBUTES: AttributesImpl[str] = AttributesImpl({})


# ---------------------------------------------------------------- feeds


def feed_path(scope: FeedScope) -> str:
    if scope.kind is ScopeKind.ALL:
        return "news"
    folder = {ScopeKind.TAG: "tags", ScopeKind.REGION: "regions", ScopeKind.AGREEMENT: "agreements"}
    return f"{folder[scope.kind]}/{scope.key}"


def feed_title(scope: FeedScope) -> str:
    return {
        ScopeKind.ALL: "Новости",
        ScopeKind.TAG: f"Новости по теме «{scope.title}»",
        ScopeKind.REGION: f"Новости: {scope.title}",
        ScopeKind.AGREEMENT: f"Новости о соглашении «{scope.title}»",
    }[scope.kind]


def entry_guid(settings: Settings, entry: FeedEntry) -> str:
    """Stable across renames: a tag URI (RFC 4151) on the item's id, never its slug."""
    return f"tag:{_authority(settings)},2023:news:{entry.pk}"


def _authority(settings: Settings) -> str:
    return settings.site_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]


def entry_cover(settings: Settings, entry: FeedEntry) -> dict[str, Any] | None:
    """A JPEG rendition of the cover (made on its first GET), or the original file
    for a non-image. Its length is unknown until it is made: 0, as the RSS Advisory
    Board's profile asks for an enclosure whose size cannot be determined."""
    image = entry.cover
    if image is None:
        return None
    if image.width is None or image.height is None:
        return {
            "url": media_url(settings, image.storage_key),
            "type": image.mime_type,
            "length": image.size,
            "alt": image.alt,
        }
    output = renditions.FORMATS["jpeg"]
    spec = renditions.normalize(
        width=COVER_WIDTH,
        height=None,
        fit=renditions.Fit.COVER,
        output=output,
        source_size=(image.width, image.height),
        settings=settings,
    )
    return {
        "url": media_url(settings, renditions.rendition_key(image.sha256, spec)),
        "type": output.mime,
        "length": 0,
        "alt": image.alt,
    }


def entry_summary(entry: FeedEntry) -> str:
    if entry.lead:
        return entry.lead
    text = entry.body_text.strip()
    return text if len(text) <= 300 else text[:300].rsplit(" ", 1)[0] + "…"


def render_json_feed(settings: Settings, scope: FeedScope, entries: list[FeedEntry]) -> bytes:
    path = feed_path(scope)
    items = []
    for entry in entries:
        item: dict[str, Any] = {
            "id": entry_guid(settings, entry),
            "url": urls.news_url(settings, entry.slug),
            "title": entry.title,
            "summary": entry_summary(entry),
            "content_html": entry.body_html,
            "content_text": entry.body_text,
            "date_published": entry.published_at.astimezone(UTC).isoformat(),
            "date_modified": entry.updated_at.astimezone(UTC).isoformat(),
            "tags": [name for name, _ in entry.tags],
            "language": "ru",
        }
        cover = entry_cover(settings, entry)
        if cover is not None:
            item["image"] = cover["url"]
            attachment: dict[str, Any] = {"url": cover["url"], "mime_type": cover["type"]}
            if cover["length"]:
                attachment["size_in_bytes"] = cover["length"]
            if cover["alt"]:
                attachment["title"] = cover["alt"]
            item["attachments"] = [attachment]
        items.append(item)
    document = {
        "version": JSON_FEED_VERSION,
        "title": feed_title(scope),
        "home_page_url": settings.site_url,
        "feed_url": urls.feed_urls(settings, path)["json"],
        "language": "ru",
        "items": items,
    }
    return orjson.dumps(document)


# ---------------------------------------------------------------- sitemaps


def _lastmod(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def render_sitemap_index(settings: Settings, files: list[syndication.SitemapFile]) -> bytes:
    out = BytesIO()
    xml = XMLGenerator(out, "utf-8", short_empty_elements=True)
    xml.startDocument()
    xml.startElement("sitemapindex", AttributesImpl({"xmlns": SITEMAP_NS}))
    for file in files:
        xml.startElement("sitemap", _NO_ATTRIBUTES)
        _text(xml, "loc", f"{settings.public_url}/sitemaps/{file.kind}-{file.page}.xml")
        if (lastmod := _lastmod(file.lastmod)) is not None:
            _text(xml, "lastmod", lastmod)
        xml.endElement("sitemap")
    xml.endElement("sitemapindex")
    xml.endDocument()
    return out.getvalue()


async def render_sitemap(settings: Settings, kind: SitemapKind, page: int) -> bytes:
    """Written while the rows are read, 2,000 at a time: only the bytes are kept."""
    out = BytesIO()
    xml = XMLGenerator(out, "utf-8", short_empty_elements=True)
    xml.startDocument()
    xml.startElement("urlset", AttributesImpl({"xmlns": SITEMAP_NS}))
    async for loc, updated_at in syndication.sitemap_urls(settings, kind, page):
        xml.startElement("url", _NO_ATTRIBUTES)
        _text(xml, "loc", loc)
        _text(xml, "lastmod", _lastmod(updated_at) or "")
        xml.endElement("url")
    xml.endElement("urlset")
    xml.endDocument()
    return out.getvalue()


def _text(xml: XMLGenerator, name: str, text: str) -> None:
    xml.startElement(name, _NO_ATTRIBUTES)
    xml.characters(text)
    xml.endElement(name)


# ---------------------------------------------------------------- HTTP


@dataclass(frozen=True, slots=True)
class Built:
    body: bytes
    keys: str  # surrogate keys, space-separated
    last_modified: datetime | None  # the newest change among what the body holds


class Syndication:
    """The routes, with their caching: an answer is built once and served from the
    response cache until a change to what it holds or the next scheduled item."""

    def __init__(self, settings: Settings, cache: ResponseCache) -> None:
        self.settings = settings
        self.cache = cache

    def routes(self) -> list[Route]:
        return [
            Route("/feeds/news.{fmt}", self.news_feed, methods=["GET", "HEAD"]),
            Route("/feeds/{folder}/{name}", self.scoped_feed, methods=["GET", "HEAD"]),
            Route("/sitemap.xml", self.sitemap_index, methods=["GET", "HEAD"]),
            Route("/sitemaps/{name}", self.sitemap, methods=["GET", "HEAD"]),
        ]

    async def news_feed(self, request: Request) -> Response:
        fmt = request.path_params["fmt"]
        if fmt not in MEDIA_TYPES:
            return _not_found("Такой ленты нет: форматы rss, atom и json.")
        return await self._feed(request, syndication.ALL_NEWS, fmt)

    async def scoped_feed(self, request: Request) -> Response:
        kinds = {
            "tags": ScopeKind.TAG,
            "regions": ScopeKind.REGION,
            "agreements": ScopeKind.AGREEMENT,
        }
        kind = kinds.get(request.path_params["folder"])
        key, _, fmt = request.path_params["name"].rpartition(".")
        if kind is None or fmt not in MEDIA_TYPES or not key:
            return _not_found(
                "Такой ленты нет: /feeds/{tags|regions|agreements}/ИМЯ.{rss|atom|json}."
            )
        if len(key) > 200:
            return _not_found(_MISSING[kind])
        scope = await syndication.feed_scope(kind, key)
        if scope is None:
            return _not_found(_MISSING[kind])
        return await self._feed(request, scope, fmt)

    async def _feed(self, request: Request, scope: FeedScope, fmt: str) -> Response:
        async def build() -> Built:
            entries = await syndication.feed_entries(scope, self.settings.feed_length)
            if fmt == "json":
                body = render_json_feed(self.settings, scope, entries)
            else:
                from web.feed_xml import render_xml_feed

                body = render_xml_feed(self.settings, scope, entries, fmt)
            keys = {"news-list", *(f"News:{e.pk}" for e in entries)}
            if any(e.tags for e in entries):
                keys.add("tag-list")  # tag names and slugs are shown
            if scope.surrogate_key:
                keys.add(scope.surrogate_key)
            newest = max((e.updated_at for e in entries), default=None)
            return Built(body, " ".join(sorted(keys)), newest)

        return await self._answer(
            request, f"feed:{feed_path(scope)}.{fmt}", MEDIA_TYPES[fmt], build
        )

    async def sitemap_index(self, request: Request) -> Response:
        async def build() -> Built:
            files = await syndication.sitemap_files()
            newest = max((f.lastmod for f in files if f.lastmod), default=None)
            return Built(render_sitemap_index(self.settings, files), _SITEMAP_KEYS, newest)

        return await self._answer(request, "sitemap:index", XML, build)

    async def sitemap(self, request: Request) -> Response:
        name = request.path_params["name"]
        stem, _, page_text = name.removesuffix(".xml").rpartition("-")
        try:
            kind = SitemapKind(stem)
            page = int(page_text)
        except ValueError:
            return _not_found("Такой карты сайта нет.")
        if not name.endswith(".xml") or page < 1 or page > 10_000:
            return _not_found("Такой карты сайта нет.")

        async def build() -> Built | None:
            files = await syndication.sitemap_files()
            file = syndication.sitemap_file(files, kind, page)
            if file is None:
                return None
            body = await render_sitemap(self.settings, kind, page)
            return Built(body, _SITEMAP_KEYS, file.lastmod)

        return await self._answer(request, f"sitemap:{kind}-{page}", XML, build)

    async def _answer(
        self,
        request: Request,
        name: str,
        media_type: str,
        build: Callable[[], Awaitable[Built | None]],
    ) -> Response:
        key = hashlib.sha256(f"syndication\x00{name}".encode()).hexdigest()
        entry, stamp = await self.cache.lookup(key)
        if entry is None:
            # What the build asks the visibility layer about is recorded too.
            recorded: set[str] = set()
            with surrogate_keys.recording(recorded):
                built = await build()
            if built is None:
                return _not_found("Такой карты сайта нет.")
            changed = built.last_modified.timestamp() if built.last_modified else 0.0
            keys = " ".join(sorted({*built.keys.split(), *recorded}))
            entry = await self.cache.entry_for(built.body, keys, stamp, changed)
            await self.cache.put(key, entry)
        return _public(request, entry, media_type, self.settings)


_SITEMAP_KEYS = "news-list agreement-list action-plan-list enterprise-list"
_MISSING = {
    ScopeKind.TAG: "Тег не найден.",
    ScopeKind.REGION: "Регион не найден.",
    ScopeKind.AGREEMENT: "Соглашение не найдено.",
}


def _not_found(message: str) -> Response:
    return error_response(404, message, Code.NOT_FOUND, headers={"cache-control": "no-store"})


def _public(
    request: Request, entry: CachedResponse, media_type: str, settings: Settings
) -> Response:
    headers = {
        name.decode(): value.decode() for name, value in http_cache.public_headers(entry, settings)
    }
    headers["vary"] = "Accept-Encoding"
    last_modified = _last_modified(entry)
    if last_modified is not None:
        headers["last-modified"] = format_datetime(last_modified, usegmt=True)
    if http_cache.not_modified(request.headers.get("if-none-match"), entry.etag) or (
        "if-none-match" not in request.headers
        and _unmodified_since(request.headers.get("if-modified-since"), last_modified)
    ):
        return Response(status_code=304, headers=headers)
    body = b"" if request.method == "HEAD" else entry.body
    response = Response(body, 200, headers, media_type=media_type)
    if request.method == "HEAD":
        response.headers["content-length"] = str(len(entry.body))
    return response


def _last_modified(entry: CachedResponse) -> datetime | None:
    # HTTP dates have whole seconds.
    if not entry.last_modified:
        return None
    return datetime.fromtimestamp(int(entry.last_modified), UTC)


def _unmodified_since(header: str | None, last_modified: datetime | None) -> bool:
    if not header or last_modified is None:
        return False
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return last_modified <= since
