"""The response cache: public reads are answered from it, every content change is
visible to the next anonymous read at once, and nothing private ever enters it."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cms.models import Agreement, News, NewsTag
from cms.services.surrogate_keys import ANY_CONTENT, dependencies
from graphql_schema.relay import global_id
from tests.api.cache_helpers import NEWS_LIST, CachedApp, cached_app, redis_overrides
from tests.conftest import TestDatabase, require_redis_url, use_api_token
from tests.editing.helpers import (
    DELETE_NEWS,
    PUBLISH_NEWS,
    RESTORE,
    UPDATE_NEWS,
    create_news,
    mutate,
    sign_in,
)
from tests.seed_content import AGREEMENT_SLUG, DRAFT_NEWS_SLUG, NEWS_SLUG
from web.response_cache import CachedResponse, MemoryStore, RedisStore, Stamp
from web.view import EXECUTOR_HEADER

# Staff and read-drafts tokens get the draft; the public the same query answers null.
DRAFT_ITEM = f'{{ newsItem(slug: "{DRAFT_NEWS_SLUG}") {{ slug title }} }}'
UNPUBLISH_NEWS = "mutation($id: ID!) { unpublishNews(id: $id) { errors { code } } }"


@pytest.fixture(params=["memory", "redis"])
async def apps(request: pytest.FixtureRequest, db: TestDatabase) -> AsyncIterator[list[CachedApp]]:
    """[writer, reader]: one app in process; two apps ("processes") on one Redis."""
    if request.param == "memory":
        async for app in cached_app(db.url, CMS_RESPONSE_CACHE="on"):
            await sign_in(app.staff, "editor")
            yield [app, app]
        return
    overrides = redis_overrides()
    async for writer in cached_app(db.url, **overrides):
        async for reader in cached_app(db.url, **overrides):
            await sign_in(writer.staff, "editor")
            yield [writer, reader]


@pytest.fixture
async def app(db: TestDatabase) -> AsyncIterator[CachedApp]:
    # With the headers a CDN reads (on by default only with CMS_CDN_PURGE_URL).
    async for cached in cached_app(db.url, CMS_RESPONSE_CACHE="on", CMS_SURROGATE_KEY_HEADERS="on"):
        yield cached


def slugs(response_json: dict) -> list[str]:
    return [edge["node"]["slug"] for edge in response_json["data"]["news"]["edges"]]


async def news_id(slug: str) -> str:
    return global_id("News", (await News.get(slug=slug)).pk)


async def test_a_repeated_public_read_costs_no_sql(app: CachedApp) -> None:
    first = await app.read()
    assert int(first.headers["x-sql-count"]) > 0
    second = await app.read()
    assert second.headers["x-sql-count"] == "0"
    assert second.content == first.content
    assert len(app.memory_entries()) == 1
    # The same variables in another order are the same entry.
    query = "query($a: Int, $b: String) { news(first: $a, after: $b) { totalCount } }"
    await app.read(query, a=1, b=None)
    hit = await app.http.post("/graphql", json={"query": query, "variables": {"b": None, "a": 1}})
    assert hit.headers["x-sql-count"] == "0"


async def test_errors_and_mutations_are_not_cached(app: CachedApp) -> None:
    await app.read("{ news(first: 100000) { totalCount } }")
    assert len(app.memory_entries()) == 0
    await sign_in(app.staff, "editor")
    await create_news(app.staff)
    assert len(app.memory_entries()) == 0


@pytest.mark.parametrize("change", ["publish", "update", "unpublish", "delete", "create"])
async def test_every_change_is_seen_by_the_next_anonymous_read(
    apps: list[CachedApp], change: str
) -> None:
    writer, reader = apps
    before = (await reader.read()).json()
    assert (await reader.read()).headers["x-sql-count"] == "0"
    published = await news_id(NEWS_SLUG)
    if change == "publish":
        await mutate(writer.staff, PUBLISH_NEWS, {"id": await news_id(DRAFT_NEWS_SLUG)})
        assert DRAFT_NEWS_SLUG in slugs((await reader.read()).json())
    elif change == "update":
        await mutate(writer.staff, UPDATE_NEWS, {"id": published, "input": {"title": "Новое"}})
        titles = [e["node"]["title"] for e in (await reader.read()).json()["data"]["news"]["edges"]]
        assert titles == ["Новое"]
    elif change == "unpublish":
        await mutate(writer.staff, UNPUBLISH_NEWS, {"id": published})
        assert slugs((await reader.read()).json()) == []
    elif change == "delete":
        await mutate(writer.staff, DELETE_NEWS, {"id": published})
        assert slugs((await reader.read()).json()) == []
    else:
        created = await create_news(writer.staff, title="Свежая")
        await mutate(writer.staff, PUBLISH_NEWS, {"id": created["id"]})
        assert created["slug"] in slugs((await reader.read()).json())
    after = (await reader.read()).json()
    assert after != before


async def test_a_scheduled_item_goes_live_on_time(apps: list[CachedApp]) -> None:
    writer, reader = apps
    draft = await news_id(DRAFT_NEWS_SLUG)
    go_live = datetime.now(UTC) + timedelta(seconds=2)
    await mutate(writer.staff, PUBLISH_NEWS, {"id": draft, "at": go_live.isoformat()})
    assert DRAFT_NEWS_SLUG not in slugs((await reader.read()).json())
    cached = await reader.read()
    assert cached.headers["x-sql-count"] == "0"  # cached, but only until the go-live
    # HTTP caches are told the same: max-age ends at the go-live, no stale serving past it.
    response = await reader.http.get("/graphql", params={"query": NEWS_LIST})
    control = response.headers["cache-control"]
    assert control.startswith("public, max-age=")
    max_age = int(control.split("max-age=")[1].split(",")[0])
    stale = int(control.split("stale-while-revalidate=")[1])
    assert max_age + stale <= 2
    await asyncio.sleep(max(0.0, (go_live - datetime.now(UTC)).total_seconds()) + 0.05)
    assert DRAFT_NEWS_SLUG in slugs((await reader.read()).json())


async def test_a_staff_response_never_enters_the_shared_cache(app: CachedApp) -> None:
    await sign_in(app.staff, "editor")
    staff = await app.http.post("/graphql", json={"query": DRAFT_ITEM}, headers=app.staff.headers)
    assert DRAFT_NEWS_SLUG in staff.text
    assert staff.headers["cache-control"] == "private, no-store"
    assert "surrogate-key" not in staff.headers
    assert len(app.memory_entries()) == 0
    anonymous = await app.read(DRAFT_ITEM)
    assert anonymous.json()["data"] == {"newsItem": None}
    store = app.memory_entries()
    assert len(store) == 1
    for key in store.entry_keys():
        entry = store.lookup_nowait(key)
        assert entry is not None
        assert DRAFT_NEWS_SLUG.encode() not in entry.body
    # And a staff read after the anonymous one is not served from the cache either.
    again = await app.http.post("/graphql", json={"query": DRAFT_ITEM}, headers=app.staff.headers)
    assert DRAFT_NEWS_SLUG in again.text
    assert again.headers["x-sql-count"] != "0"


async def test_read_token_shares_the_public_entry_read_drafts_token_bypasses(
    app: CachedApp,
) -> None:
    reader = app.staff  # a second client over the same app
    await use_api_token(reader, "read")
    first = await app.http.post("/graphql", json={"query": DRAFT_ITEM}, headers=reader.headers)
    assert first.json()["data"] == {"newsItem": None}
    assert len(app.memory_entries()) == 1
    anonymous = await app.read(DRAFT_ITEM)
    assert anonymous.headers["x-sql-count"] == "0"
    assert anonymous.content == first.content
    assert first.headers["cache-control"] == "private, no-store"

    await use_api_token(reader, "read_drafts")
    drafts = await app.http.post("/graphql", json={"query": DRAFT_ITEM}, headers=reader.headers)
    assert DRAFT_NEWS_SLUG in drafts.text
    assert len(app.memory_entries()) == 1
    for key in app.memory_entries().entry_keys():
        entry = app.memory_entries().lookup_nowait(key)
        assert entry is not None
        assert DRAFT_NEWS_SLUG.encode() not in entry.body


async def test_http_caching_of_anonymous_gets(
    app: CachedApp, caplog: pytest.LogCaptureFixture
) -> None:
    response = await app.http.get("/graphql", params={"query": NEWS_LIST})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=60, stale-while-revalidate=300"
    etag = response.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    keys = response.headers["surrogate-key"].split()
    assert f"News:{(await News.get(slug=NEWS_SLUG)).pk}" in keys
    assert "news-list" in keys
    assert response.headers["cache-tag"] == ",".join(keys)
    # A hit (the fast lane) answers with the same headers and bytes, and is logged.
    with caplog.at_level(logging.INFO, logger="cms.access"):
        hit = await app.http.get("/graphql", params={"query": NEWS_LIST})
    (line,) = [r.getMessage() for r in caplog.records if r.name == "cms.access"]
    assert line.startswith("GET /graphql 200 ")
    assert line.endswith("sql=0")
    assert hit.headers["x-sql-count"] == "0"
    assert hit.content == response.content
    assert hit.headers["etag"] == etag
    assert hit.headers["surrogate-key"] == response.headers["surrogate-key"]
    not_modified = await app.http.get(
        "/graphql", params={"query": NEWS_LIST}, headers={"if-none-match": etag}
    )
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    # Staff answers and mutations are private.
    await sign_in(app.staff, "editor")
    staff = await app.http.get("/graphql", params={"query": NEWS_LIST}, headers=app.staff.headers)
    assert staff.headers["cache-control"] == "private, no-store"
    assert "etag" not in staff.headers
    assert "surrogate-key" not in staff.headers
    mutation = await app.http.post(
        "/graphql",
        json={"query": "mutation { logout }"},
        headers=app.staff.headers,
    )
    assert mutation.headers["cache-control"] == "private, no-store"


async def test_http_caching_without_the_response_cache(db: TestDatabase) -> None:
    async for app in cached_app(db.url, CMS_RESPONSE_CACHE="off"):
        first = await app.http.get("/graphql", params={"query": NEWS_LIST})
        assert first.headers["cache-control"].startswith("public, max-age=60")
        revalidated = await app.http.get(
            "/graphql",
            params={"query": NEWS_LIST},
            headers={"if-none-match": first.headers["etag"]},
        )
        assert revalidated.status_code == 304
        assert int(revalidated.headers["x-sql-count"]) > 0  # executed: nothing cached


async def test_fast_lane_applies_the_anonymous_rate_limit(db: TestDatabase) -> None:
    async for app in cached_app(db.url, CMS_RESPONSE_CACHE="on", CMS_RATE_LIMIT_ANONYMOUS="3/60"):
        statuses = [(await app.http.get("/graphql", params={"query": NEWS_LIST})).status_code]
        for _ in range(3):
            response = await app.http.get("/graphql", params={"query": NEWS_LIST})
            statuses.append(response.status_code)
        assert statuses == [200, 200, 200, 429]
        assert json.loads(response.content)["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_memory_store_is_bounded() -> None:
    store = MemoryStore(max_entries=3, max_bytes=10_000)

    def entry(body: bytes) -> CachedResponse:
        return CachedResponse(body, '"x"', "", 2e9, 0.0, Stamp(0, 0))

    for number in range(5):
        await store.put(str(number), entry(b"x" * 10))
    assert store.entry_keys() == ["2", "3", "4"]
    assert store.lookup_nowait("2") is not None  # now the most recently used
    await store.put("5", entry(b"x" * 10))
    assert store.entry_keys() == ["4", "2", "5"]
    await store.put("big", entry(b"x" * 9_995))
    assert store.entry_keys() == ["big"]
    await store.bump()
    assert len(store) == 0


async def test_a_failing_store_degrades_to_uncached_answers(
    app: CachedApp, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(key: str) -> None:
        raise ConnectionError("the cache is unreachable")

    monkeypatch.setattr(app.response_cache.store, "lookup", broken)
    for method in ("GET", "POST"):
        if method == "GET":
            response = await app.http.get("/graphql", params={"query": NEWS_LIST})
        else:
            response = await app.read()
        assert response.status_code == 200
        assert slugs(response.json()) == [NEWS_SLUG]
    logged = [r for r in caplog.records if "cache" in r.getMessage() and r.exc_info]
    assert logged  # logged with the traceback, never a bare 500


async def test_fast_lane_hits_are_logged_and_cross_origin_reads_get_cors_headers(
    db: TestDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    """The fast lane answers before every other middleware: it writes the access log
    line of its hits itself, and leaves browsers' cross-origin reads to CORS."""
    origin = "https://invest.example"
    async for app in cached_app(db.url, CMS_RESPONSE_CACHE="on", CMS_CORS_ORIGINS=origin):
        await app.read()
        with caplog.at_level(logging.INFO, logger="cms.access"):
            hit = await app.read()
        assert hit.headers["x-sql-count"] == "0"
        (line,) = [r.getMessage() for r in caplog.records if r.name == "cms.access"]
        assert line.startswith("POST /graphql 200 ")
        assert line.endswith("sql=0")

        cross = await app.http.post(
            "/graphql", json={"query": NEWS_LIST}, headers={"origin": origin}
        )
        assert cross.headers["access-control-allow-origin"] == origin
        assert cross.json() == hit.json()
        assert cross.headers["x-sql-count"] == "0"  # still a hit, in the view


async def test_a_command_that_changed_content_voids_the_servers_shared_entries(
    db: TestDatabase,
) -> None:
    """`python -m cms seed`, `demo` and `purge-trash` change content without a server:
    they move the content generation in Redis (cms.services.events), which is the
    response cache's own generation, so every server's entries are void at once."""
    from cms.__main__ import _bump_shared_cache

    overrides = redis_overrides()
    async for app in cached_app(db.url, **overrides):
        await app.read()
        assert (await app.read()).headers["x-sql-count"] == "0"
        await _bump_shared_cache(app.runtime.settings)
        assert (await app.read()).headers["x-sql-count"] != "0"


async def test_a_miss_is_hashed_once_and_looked_up_once(
    app: CachedApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast lane hands what it computed on a miss to the view: the document is
    hashed once and the cache looked up once per request, hit or miss."""
    from cms.services import trusted_documents
    from web import fast_lane, persisted

    hashes: list[str] = []
    lookups: list[str] = []

    def counting_hash(query: str) -> str:
        hashes.append(query)
        return trusted_documents.document_hash(query)

    store = app.response_cache.store
    real_lookup = store.lookup

    async def counting_lookup(key: str) -> Any:
        lookups.append(key)
        return await real_lookup(key)

    monkeypatch.setattr(fast_lane, "document_hash", counting_hash)
    monkeypatch.setattr(persisted, "document_hash", counting_hash)
    monkeypatch.setattr(store, "lookup", counting_lookup)
    for method, size in (("POST", 99), ("GET", 98)):
        query = NEWS_LIST.replace("first: 100", f"first: {size}")  # bytes no test sent
        hashes.clear()
        lookups.clear()
        miss = await app.http.request(method, "/graphql", **_request(method, query))
        assert miss.status_code == 200
        assert miss.headers["x-sql-count"] != "0"
        assert (len(hashes), len(lookups)) == (1, 1), method
        hit = await app.http.request(method, "/graphql", **_request(method, query))
        assert hit.headers["x-sql-count"] == "0"
        # The same bytes again: the fast lane's memo, no hash at all.
        assert (len(hashes), len(lookups)) == (1, 2), method


def _request(method: str, query: str) -> dict[str, Any]:
    if method == "GET":
        return {"params": {"query": query}, "headers": {"accept": "application/json"}}
    return {"json": {"query": query}}


# ---------------------------------------------------------------- precise invalidation
# A change voids exactly the answers that hold what it touches (surrogate keys):
# these cases must survive a change, in process and across two apps on one Redis.

AGREEMENT_PAGE = (
    'query($slug: String = "' + AGREEMENT_SLUG + '") { agreement(slug: $slug) '
    "{ title parties { name } documents { id url } actionPlans { title } } }"
)
ENTERPRISES = "{ enterprises(first: 50) { edges { node { name logo { id } region { name } } } } }"
NEWS_WITH_TAGS = "{ news(first: 100) { edges { node { slug tags { name } } } } }"
TAGS = "{ tags(first: 50) { edges { node { name newsCount } } } }"
UPDATE_AGREEMENT = (
    "mutation($id: ID!, $title: String!) { updateAgreement(id: $id, input: {title: $title}) "
    "{ agreement { title } errors { code } } }"
)
UPDATE_TAG = (
    "mutation($id: ID!, $name: String!) { updateTag(id: $id, input: {name: $name}) "
    "{ tag { name } errors { code } } }"
)


async def cached(app: CachedApp, query: str) -> bool:
    """Whether the app answers `query` from its cache (no SQL)."""
    return (await app.read(query)).headers["x-sql-count"] == "0"


async def warm(app: CachedApp, *queries: str) -> None:
    for query in queries:
        await app.read(query)
        assert await cached(app, query), query


async def test_a_draft_edit_voids_nothing(apps: list[CachedApp]) -> None:
    writer, reader = apps
    await warm(reader, NEWS_LIST, DRAFT_ITEM, AGREEMENT_PAGE, TAGS)
    draft = await news_id(DRAFT_NEWS_SLUG)
    payload = await mutate(writer.staff, UPDATE_NEWS, {"id": draft, "input": {"title": "Правка"}})
    assert payload["errors"] == []
    for query in (NEWS_LIST, DRAFT_ITEM, AGREEMENT_PAGE, TAGS):
        assert await cached(reader, query), query
    assert (await reader.read(DRAFT_ITEM)).json()["data"] == {"newsItem": None}


async def test_publishing_news_voids_news_answers_and_keeps_the_others(
    apps: list[CachedApp],
) -> None:
    writer, reader = apps
    await warm(reader, NEWS_LIST, DRAFT_ITEM, TAGS, AGREEMENT_PAGE, ENTERPRISES)
    await mutate(writer.staff, PUBLISH_NEWS, {"id": await news_id(DRAFT_NEWS_SLUG)})
    # What shows news (a list, a lookup that found nothing, counts) is computed again...
    listed = await reader.read()
    assert listed.headers["x-sql-count"] != "0"
    assert DRAFT_NEWS_SLUG in slugs(listed.json())
    found = await reader.read(DRAFT_ITEM)
    assert found.json()["data"]["newsItem"]["slug"] == DRAFT_NEWS_SLUG
    assert not await cached(reader, TAGS)  # tag counts and visibility follow news
    # ...and the agreement and enterprise pages stay cached.
    assert await cached(reader, AGREEMENT_PAGE)
    assert await cached(reader, ENTERPRISES)


async def test_tag_counts_follow_a_publication(apps: list[CachedApp]) -> None:
    writer, reader = apps
    await sign_in(writer.staff, "editor")
    created = await create_news(writer.staff, title="С тегом", tags=["Новый тег"])
    await warm(reader, TAGS)
    assert "Новый тег" not in (await reader.read(TAGS)).text  # a draft's tag is not public
    await mutate(writer.staff, PUBLISH_NEWS, {"id": created["id"]})
    counts = {
        edge["node"]["name"]: edge["node"]["newsCount"]
        for edge in (await reader.read(TAGS)).json()["data"]["tags"]["edges"]
    }
    assert counts["Новый тег"] == 1


async def test_editing_an_agreement_keeps_the_news_list(apps: list[CachedApp]) -> None:
    writer, reader = apps
    await warm(reader, NEWS_LIST, AGREEMENT_PAGE)
    agreement = global_id("Agreement", (await Agreement.get(slug=AGREEMENT_SLUG)).pk)
    payload = await mutate(writer.staff, UPDATE_AGREEMENT, {"id": agreement, "title": "Новое"})
    assert payload["errors"] == []
    page = await reader.read(AGREEMENT_PAGE)
    assert page.json()["data"]["agreement"]["title"] == "Новое", page.text
    assert await cached(reader, NEWS_LIST)


async def test_a_tag_edit_voids_the_answers_showing_tags(apps: list[CachedApp]) -> None:
    writer, reader = apps
    await warm(reader, NEWS_WITH_TAGS, NEWS_LIST, AGREEMENT_PAGE)
    link = await NewsTag.filter(news__slug=NEWS_SLUG).first()
    assert link is not None
    payload = await mutate(
        writer.staff, UPDATE_TAG, {"id": global_id("Tag", link.tag_id), "name": "Переименован"}
    )
    assert payload["errors"] == []
    assert "Переименован" in (await reader.read(NEWS_WITH_TAGS)).text
    assert await cached(reader, NEWS_LIST)  # shows no tags
    assert await cached(reader, AGREEMENT_PAGE)


async def test_a_restored_item_comes_back(apps: list[CachedApp]) -> None:
    writer, reader = apps
    published = await news_id(NEWS_SLUG)
    await mutate(writer.staff, DELETE_NEWS, {"id": published})
    await warm(reader, NEWS_LIST)
    assert slugs((await reader.read()).json()) == []
    await sign_in(writer.staff, "admin")  # the trash is the admins'
    payload = await mutate(writer.staff, RESTORE, {"id": published})
    assert payload["errors"] == []
    assert slugs((await reader.read()).json()) == [NEWS_SLUG]


# Answered by the read compiler (graphql_schema/compiler), as NEWS_LIST is.
COMPILED_AGREEMENT = (
    'query($slug: String = "' + AGREEMENT_SLUG + '") { agreement(slug: $slug) '
    "{ title parties { name region { name } } actionPlans { title visits { title } } } }"
)


async def test_compiled_answers_fill_the_cache_and_are_voided_precisely(
    apps: list[CachedApp],
) -> None:
    writer, reader = apps
    for query in (NEWS_LIST, COMPILED_AGREEMENT):
        miss = await reader.read(query)
        assert miss.headers[EXECUTOR_HEADER] == "compiled", query
        assert await cached(reader, query), query
    await mutate(writer.staff, PUBLISH_NEWS, {"id": await news_id(DRAFT_NEWS_SLUG)})
    listed = await reader.read()
    assert listed.headers["x-sql-count"] != "0"
    assert listed.headers[EXECUTOR_HEADER] == "compiled"
    assert DRAFT_NEWS_SLUG in slugs(listed.json())
    assert await cached(reader, NEWS_LIST)
    assert await cached(reader, COMPILED_AGREEMENT)


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_an_answer_computed_before_a_change_is_never_stored(backend: str) -> None:
    """The fill race: the stamp is read before the answer is computed; a change to
    what it holds meanwhile keeps it out of the store, a change elsewhere does not."""
    from redis.asyncio import Redis

    redis: Redis | None = None
    if backend == "redis":
        redis = Redis.from_url(require_redis_url())
        prefix = f"cms-test-{uuid.uuid4().hex[:10]}:rc"
        store: Any = RedisStore(redis, prefix, f"{prefix}:generation")
    else:
        store = MemoryStore(max_entries=10, max_bytes=10_000)
    try:

        def entry(stamp: Stamp, *dependencies: str) -> CachedResponse:
            return CachedResponse(b"{}", '"x"', "", time.time() + 60, 0.0, stamp, 0.0, dependencies)

        _, before = await store.lookup("news")
        await store.touch(["News:1", "news-list", "any-content"])
        await store.put("news", entry(before, "news-list"))
        await store.put("agreement", entry(before, "agreement-list"))
        assert (await store.lookup("news"))[0] is None
        assert (await store.lookup("agreement"))[0] is not None
        # Stored under a stamp read after the change: kept until the next one.
        _, after = await store.lookup("news")
        assert after.clock > before.clock
        await store.put("news", entry(after, "news-list"))
        assert (await store.lookup("news"))[0] is not None
        await store.touch(["Agreement:3", "agreement-list", "any-content"])
        assert (await store.lookup("news"))[0] is not None
        assert (await store.lookup("agreement"))[0] is None
        if redis is not None:
            # A version key that is gone (evicted) voids what depends on it.
            await redis.delete(f"{prefix}:key:news-list")
            assert (await store.lookup("news"))[0] is None
    finally:
        await store.clear()
        if redis is not None:
            await redis.aclose()


def test_dependencies_are_the_lists_and_the_items_of_other_types() -> None:
    keys = ["News:1", "News:2", "news-list", "Region:4", "MediaAsset:9"]
    assert dependencies(keys) == ["MediaAsset:9", "Region:4", "news-list"]
    assert dependencies([]) == [ANY_CONTENT]
    assert dependencies(f"Region:{n}" for n in range(100)) == [ANY_CONTENT]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, False),
        ({"CMS_CDN_PURGE_URL": "http://127.0.0.1:9/purge"}, True),
        (
            {"CMS_CDN_PURGE_URL": "http://127.0.0.1:9/purge", "CMS_SURROGATE_KEY_HEADERS": "off"},
            False,
        ),
        ({"CMS_SURROGATE_KEY_HEADERS": "on"}, True),
    ],
)
async def test_surrogate_key_headers_only_where_a_cdn_reads_them(
    seeded_db: TestDatabase, env: dict[str, str], expected: bool
) -> None:
    async for cached in cached_app(seeded_db.url, CMS_RESPONSE_CACHE="on", **env):
        miss = await cached.http.get("/graphql", params={"query": NEWS_LIST})
        hit = await cached.http.get("/graphql", params={"query": NEWS_LIST})
        assert hit.headers["x-sql-count"] == "0"  # the fast lane's answer from the cache
        for response in (miss, hit):
            assert response.status_code == 200
            assert ("surrogate-key" in response.headers) is expected
            assert ("cache-tag" in response.headers) is expected
            # The caching headers stay whatever the setting.
            assert response.headers["cache-control"].startswith("public, max-age=")
            assert response.headers["etag"]
