"""Feeds and sitemaps, read as aggregators and search engines read them: feedparser
for RSS and Atom, the JSON Feed 1.1 schema, the sitemap XML."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import feedparser
import jsonschema
import pytest

from cms.models import MediaAsset, News
from cms.services import syndication
from cms.services.visibility import now
from tests.conftest import GraphQLClient, TestDatabase, client_with
from tests.editing.helpers import (
    DELETE_NEWS,
    PUBLISH_NEWS,
    UPDATE_NEWS,
    create_news,
    mutate,
    sign_in,
)
from tests.seed_content import HIDDEN_NEWS_SLUGS, NEWS_SLUG, NEWS_TITLE

JSON_FEED_SCHEMA = json.loads((Path(__file__).parent / "jsonfeed-1.1.schema.json").read_text())
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
FEEDS = ("/feeds/news.rss", "/feeds/news.atom", "/feeds/news.json")


async def get(client: GraphQLClient, path: str, **headers: str) -> Any:
    return await client.http.get(path, headers=headers)


def slugs_in(body: bytes, fmt: str) -> set[str]:
    if fmt == "json":
        return {item["url"].rsplit("/", 1)[-1] for item in json.loads(body)["items"]}
    return {entry.link.rsplit("/", 1)[-1] for entry in feedparser.parse(body).entries}


@pytest.fixture
async def client_with_cover(db: TestDatabase) -> AsyncIterator[GraphQLClient]:
    """The seed news with a cover image."""
    cover = await MediaAsset.create(
        storage_key="ab/cd/" + "e" * 64 + ".jpg",
        sha256="e" * 64,
        file_name="delegatsiya.jpg",
        mime_type="image/jpeg",
        size=345_678,
        width=2400,
        height=1600,
        alt="Делегация на заводе",
    )
    await News.filter(slug=NEWS_SLUG).update(cover_id=cover.id)
    async with client_with(db) as client:
        yield client


async def test_rss_has_every_field_aggregators_read(client_with_cover: GraphQLClient) -> None:
    client = client_with_cover
    response = await get(client, "/feeds/news.rss")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/rss+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "rss20"
    assert feed.feed.language == "ru"
    (entry,) = [e for e in feed.entries if e.link.endswith(NEWS_SLUG)]
    assert entry.title == NEWS_TITLE
    assert entry.link == f"https://invest.example/news/{NEWS_SLUG}"
    assert entry.id.startswith("tag:invest.example,2023:news:")
    assert entry.guidislink is False
    assert entry.summary  # the lead
    assert "<p>" in entry.content[0].value  # the sanitised body, as HTML
    assert entry.published_parsed  # RSS items have pubDate only
    data = await client.data(f'{{ newsItem(slug: "{NEWS_SLUG}") {{ tags {{ name }} }} }}')
    assert [tag.term for tag in entry.tags] == [t["name"] for t in data["newsItem"]["tags"]]
    (enclosure,) = entry.enclosures
    assert enclosure.href.startswith("https://api.invest.example/media/renditions/")
    assert enclosure.type == "image/jpeg"
    assert enclosure.length == "0"
    # yandex:full-text, the whole story as plain text
    root = ET.fromstring(response.content)
    item = next(i for i in root.iter("item") if i.findtext("link").endswith(NEWS_SLUG))
    full_text = item.findtext("{http://news.yandex.ru}full-text")
    assert full_text
    assert "<" not in full_text
    assert len(full_text) > len(entry.summary)


async def test_atom_and_json_feed(client_with_cover: GraphQLClient) -> None:
    client = client_with_cover
    atom = feedparser.parse((await get(client, "/feeds/news.atom")).content)
    assert not atom.bozo
    assert atom.version == "atom10"
    (entry,) = [e for e in atom.entries if e.link.endswith(NEWS_SLUG)]
    assert entry.title == NEWS_TITLE
    assert entry.summary
    assert entry.content[0].value
    assert entry.published_parsed
    assert entry.updated_parsed
    assert entry.enclosures
    assert entry.enclosures[0].type == "image/jpeg"

    response = await get(client, "/feeds/news.json")
    assert response.headers["content-type"].startswith("application/feed+json")
    document = response.json()
    jsonschema.validate(document, JSON_FEED_SCHEMA)
    (item,) = [i for i in document["items"] if i["url"].endswith(NEWS_SLUG)]
    assert item["id"] == entry.id  # one guid for the item in every format
    assert item["content_html"]
    assert item["content_text"]
    assert item["tags"]
    assert item["attachments"][0] == {
        "url": entry.enclosures[0].href,
        "mime_type": "image/jpeg",
        "title": "Делегация на заводе",
    }


@pytest.mark.parametrize("path", FEEDS)
async def test_feeds_hold_only_public_news(client: GraphQLClient, path: str) -> None:
    body = (await get(client, path)).content
    slugs = slugs_in(body, path.rsplit(".", 1)[-1])
    assert NEWS_SLUG in slugs
    assert not slugs & set(HIDDEN_NEWS_SLUGS)  # draft, scheduled, archived


async def test_tag_region_and_agreement_feeds(seeded_db: TestDatabase) -> None:
    async with client_with(seeded_db, CMS_SURROGATE_KEY_HEADERS="on") as client:
        await _tag_region_and_agreement_feeds(client)


async def _tag_region_and_agreement_feeds(client: GraphQLClient) -> None:
    for path in (
        "/feeds/tags/sotrudnichestvo.rss",
        "/feeds/regions/RU-AMU.atom",
        "/feeds/agreements/soglashenie-amurskaya-oblast-altayskiy-kray.json",
    ):
        response = await get(client, path)
        assert response.status_code == 200, (path, response.text)
        assert NEWS_SLUG in slugs_in(response.content, path.rsplit(".", 1)[-1]), path
        assert (
            "Tag:" in response.headers["surrogate-key"]
            or "Region:" in response.headers["surrogate-key"]
            or "Agreement:" in response.headers["surrogate-key"]
        )


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/feeds/tags/net-takogo-tega.rss", "Тег не найден."),
        ("/feeds/regions/RU-XXX.json", "Регион не найден."),
        ("/feeds/agreements/net.atom", "Соглашение не найдено."),
        ("/feeds/tags/" + "a" * 5000 + ".rss", "Тег не найден."),
        ("/feeds/news.xml", "Такой ленты нет: форматы rss, atom и json."),
        ("/feeds/people/x.rss", None),
        ("/sitemaps/news-0.xml", "Такой карты сайта нет."),
        ("/sitemaps/news-2.xml", "Такой карты сайта нет."),
        ("/sitemaps/users-1.xml", "Такой карты сайта нет."),
    ],
)
async def test_unknown_feeds_answer_404(client: GraphQLClient, path: str, message: str | None):
    response = await get(client, path)
    assert response.status_code == 404
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND"
    if message:
        assert error["message"] == message
    assert "public" not in response.headers.get("cache-control", "")


async def test_conditional_get_and_cache_headers(seeded_db: TestDatabase) -> None:
    async with client_with(seeded_db, CMS_SURROGATE_KEY_HEADERS="on") as client:
        await _conditional_get_and_cache_headers(client)


async def _conditional_get_and_cache_headers(client: GraphQLClient) -> None:
    first = await get(client, "/feeds/news.rss")
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    assert first.headers["cache-control"].startswith("public, max-age=")
    assert "news-list" in first.headers["surrogate-key"].split()
    assert any(key.startswith("News:") for key in first.headers["surrogate-key"].split())
    assert (await get(client, "/feeds/news.rss", **{"if-none-match": etag})).status_code == 304
    again = await get(client, "/feeds/news.rss", **{"if-modified-since": last_modified})
    assert again.status_code == 304
    older = await get(
        client, "/feeds/news.rss", **{"if-modified-since": "Mon, 01 Jan 2001 00:00:00 GMT"}
    )
    assert older.status_code == 200


async def test_statements_do_not_grow_with_the_feed_length(db: TestDatabase) -> None:
    async with client_with(db) as staff:
        await sign_in(staff, "editor")
        for n in range(7):
            news = await create_news(staff, tags=["тест-лент", f"тег-{n}"])
            await mutate(staff, PUBLISH_NEWS, {"id": news["id"]})
    counts = {}
    for length in ("1", "7"):
        for path in ("/feeds/news.rss", "/feeds/tags/test-lent.json"):
            async with client_with(db, CMS_FEED_LENGTH=length) as reader:
                response = await get(reader, path)
                assert len(slugs_in(response.content, path.rsplit(".", 1)[-1])) == int(length)
                counts[length, path] = int(response.headers["x-sql-count"])
    # All news: the news with their covers, their tags, and the next scheduled publication
    # (the answer's expiry); a tag's feed: the tag first.
    assert counts["1", "/feeds/news.rss"] == counts["7", "/feeds/news.rss"] == 3
    tag_feed = "/feeds/tags/test-lent.json"
    assert counts["1", tag_feed] == counts["7", tag_feed] == 4


async def test_guid_survives_a_new_title_and_slug(db: TestDatabase) -> None:
    async with client_with(db) as staff:
        await sign_in(staff, "editor")
        news = await create_news(staff, title="Старый заголовок")
        news = (await mutate(staff, PUBLISH_NEWS, {"id": news["id"]}))["news"]
        before = {
            e.link: e.id
            for e in feedparser.parse((await get(staff, "/feeds/news.rss")).content).entries
        }
        payload = await mutate(
            staff,
            UPDATE_NEWS,
            {
                "id": news["id"],
                "input": {"title": "Новый заголовок", "slug": "novyy"},
                "rev": news["revision"],
            },
        )
        assert payload["errors"] == []
        after = {
            e.link: e.id
            for e in feedparser.parse((await get(staff, "/feeds/news.rss")).content).entries
        }
    old_guid = before[f"https://invest.example/news/{news['slug']}"]
    assert after["https://invest.example/news/novyy"] == old_guid


async def test_changes_reach_the_cached_feed(db: TestDatabase) -> None:
    """With the response cache on: trashing, scheduling and going live show at once."""
    async with client_with(db, CMS_RESPONSE_CACHE="on") as staff:
        await sign_in(staff, "editor")
        news = await create_news(staff, title="Кэшируемая новость")
        await mutate(staff, PUBLISH_NEWS, {"id": news["id"]})
        staff.headers.pop("authorization")
        assert news["slug"] in slugs_in((await get(staff, "/feeds/news.json")).content, "json")
        cached = await get(staff, "/feeds/news.json")
        assert cached.headers["x-sql-count"] == "0"
        await sign_in(staff, "editor")
        await mutate(staff, DELETE_NEWS, {"id": news["id"]})
        later = await create_news(staff, title="Запланированная новость")
        at = (now() + timedelta(seconds=1.5)).isoformat()
        await mutate(staff, PUBLISH_NEWS, {"id": later["id"], "at": at})
        staff.headers.pop("authorization")
        slugs = slugs_in((await get(staff, "/feeds/news.json")).content, "json")
        assert news["slug"] not in slugs
        assert later["slug"] not in slugs
        await asyncio.sleep(1.6)
        slugs = slugs_in((await get(staff, "/feeds/news.json")).content, "json")
        assert later["slug"] in slugs


# ---------------------------------------------------------------- sitemaps


async def test_sitemap_index_and_pages(client: GraphQLClient) -> None:
    index = await get(client, "/sitemap.xml")
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(index.content)
    locations = [s.findtext(f"{SITEMAP}loc") for s in root.iter(f"{SITEMAP}sitemap")]
    assert locations == [
        f"https://api.invest.example/sitemaps/{kind}-1.xml"
        for kind in ("news", "agreements", "action-plans", "enterprises")
    ]
    assert all(s.findtext(f"{SITEMAP}lastmod") for s in root.iter(f"{SITEMAP}sitemap"))
    news = ET.fromstring((await get(client, "/sitemaps/news-1.xml")).content)
    urls = [u.findtext(f"{SITEMAP}loc") for u in news.iter(f"{SITEMAP}url")]
    assert f"https://invest.example/news/{NEWS_SLUG}" in urls
    assert not any(url.endswith(slug) for url in urls for slug in HIDDEN_NEWS_SLUGS)
    enterprises = ET.fromstring((await get(client, "/sitemaps/enterprises-1.xml")).content)
    assert len(list(enterprises.iter(f"{SITEMAP}url"))) >= 13


async def test_sitemaps_page_beyond_the_limit(
    db: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with client_with(db) as staff:
        await sign_in(staff, "editor")
        for _ in range(4):
            news = await create_news(staff)
            await mutate(staff, PUBLISH_NEWS, {"id": news["id"]})
    public = await News.filter(
        status="published", deleted_at__isnull=True, published_at__lte=now()
    ).count()
    monkeypatch.setattr(syndication, "SITEMAP_PAGE_SIZE", 2)
    monkeypatch.setattr(syndication, "_SITEMAP_CHUNK", 1)  # several reads per page
    async with client_with(db) as reader:
        root = ET.fromstring((await get(reader, "/sitemap.xml")).content)
        pages = [s.findtext(f"{SITEMAP}loc") for s in root.iter(f"{SITEMAP}sitemap")]
        news_pages = [p for p in pages if "/news-" in p]
        assert len(news_pages) == -(-public // 2)
        seen: list[str] = []
        for page in news_pages:
            body = (await get(reader, page.removeprefix("https://api.invest.example"))).content
            urls = [u.findtext(f"{SITEMAP}loc") for u in ET.fromstring(body).iter(f"{SITEMAP}url")]
            assert 1 <= len(urls) <= 2
            seen += urls
    assert len(seen) == len(set(seen)) == public


# ---------------------------------------------------------------- discovery


async def test_feeds_are_discoverable_in_graphql(client: GraphQLClient) -> None:
    data = await client.data(
        """{ feeds { news { rss atom json } sitemap }
             tag(slug: "sotrudnichestvo") { feeds { rss atom json } }
             agreement(slug: "soglashenie-amurskaya-oblast-altayskiy-kray") { feeds { json } }
             regions { code feeds { atom } } }"""
    )
    links = [
        *data["feeds"]["news"].values(),
        data["feeds"]["sitemap"],
        *data["tag"]["feeds"].values(),
        data["agreement"]["feeds"]["json"],
        *(region["feeds"]["atom"] for region in data["regions"] if region["code"] == "RU-AMU"),
    ]
    assert data["feeds"]["news"]["rss"] == "https://api.invest.example/feeds/news.rss"
    for link in links:
        response = await get(client, link.removeprefix("https://api.invest.example"))
        assert response.status_code == 200, link


def test_the_feeds_command_prints_every_feed(seeded_db: TestDatabase) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cms", "feeds"],
        env={**os.environ, "CMS_DATABASE_URL": seeded_db.url, "CMS_PUBLIC_URL": "https://api.x"},
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    assert "Карта сайта: https://api.x/sitemap.xml" in result.stdout
    assert "https://api.x/feeds/news.rss" in result.stdout
    assert "https://api.x/feeds/tags/sotrudnichestvo.atom" in result.stdout
    assert "https://api.x/feeds/regions/RU-AMU.json" in result.stdout
    assert "https://api.x/feeds/agreements/soglashenie-amurskaya-oblast-altayskiy-kray.rss" in (
        result.stdout
    )
