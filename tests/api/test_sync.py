"""Delta sync, checked the way an integrator uses it: a mirror that starts with an
initial sync and then applies deltas must always equal a fresh full read."""

from __future__ import annotations

import asyncio
import base64
import random
from datetime import timedelta
from typing import Any

import orjson
import pytest

from cms.models import Tag
from cms.services.visibility import now
from tests.conftest import BACKEND, GraphQLClient, TestDatabase, client_with, use_api_token
from tests.editing.helpers import (
    DELETE_NEWS,
    PUBLISH_NEWS,
    RESTORE,
    UPDATE_NEWS,
    create_news,
    mutate,
    sign_in,
)
from tests.seed_content import DRAFT_NEWS_SLUG, NEWS_SLUG

ITEM = """
__typename id
... on News { slug title lead tags { slug } }
... on Tag { slug name }
... on Agreement { slug title }
... on ActionPlan { slug title }
... on Enterprise { slug name }
... on Organization { name }
... on Person { fullName }
... on CooperationDirection { name }
... on Event { title }
... on Visit { title }
"""
SYNC = f"""
query($token: String, $types: [ContentKind!], $first: Int) {{
  sync(token: $token, types: $types, first: $first) {{
    items {{ {ITEM} }}
    deletions {{ id kind deletedAt }}
    nextPageToken nextSyncToken
  }}
}}
"""
UNPUBLISH_NEWS = "mutation($id: ID!) { unpublishNews(id: $id) { errors { code } } }"
MERGE_TAGS = """
mutation($from: [String!]!, $into: String!) {
  mergeTags(input: {from: $from, into: $into}) { errors { code message } }
}
"""


class Mirror:
    """What an integrator keeps: items by id, brought up to date by syncs."""

    def __init__(self, client: GraphQLClient, types: list[str] | None = None, first: int = 7):
        self.client = client
        self.types = types
        self.first = first
        self.items: dict[str, dict[str, Any]] = {}
        self.token: str | None = None
        self.pages = 0

    async def sync(self) -> None:
        token = self.token
        while True:
            page = (
                await self.client.data(
                    SYNC, {"token": token, "types": self.types, "first": self.first}
                )
            )["sync"]
            self.pages += 1
            for item in page["items"]:
                self.items[item["id"]] = item
            for deletion in page["deletions"]:
                self.items.pop(deletion["id"], None)
            if page["nextPageToken"]:
                assert page["nextSyncToken"] is None
                token = page["nextPageToken"]
                continue
            assert page["nextSyncToken"]
            self.token = page["nextSyncToken"]
            return


async def fresh(client: GraphQLClient, types: list[str] | None = None) -> dict[str, Any]:
    mirror = Mirror(client, types, first=100)
    await mirror.sync()
    return mirror.items


async def test_initial_sync_pages_through_what_the_caller_sees(client: GraphQLClient) -> None:
    mirror = Mirror(client, first=3)
    await mirror.sync()
    slugs = {item.get("slug") for item in mirror.items.values()}
    assert NEWS_SLUG in slugs
    assert DRAFT_NEWS_SLUG not in slugs
    kinds = {item["__typename"] for item in mirror.items.values()}
    assert {"News", "Tag", "Agreement", "ActionPlan", "Enterprise", "Person"} <= kinds
    assert mirror.pages > 3
    # the same, one kind only and in one page
    news_only = await fresh(client, ["NEWS"])
    assert {item["__typename"] for item in news_only.values()} == {"News"}
    assert news_only == {k: v for k, v in mirror.items.items() if v["__typename"] == "News"}


async def test_staff_and_read_drafts_tokens_sync_drafts(client: GraphQLClient) -> None:
    await use_api_token(client, "read_drafts")
    slugs = {item.get("slug") for item in (await fresh(client, ["NEWS"])).values()}
    assert DRAFT_NEWS_SLUG in slugs
    await use_api_token(client, "read")
    slugs = {item.get("slug") for item in (await fresh(client, ["NEWS"])).values()}
    assert DRAFT_NEWS_SLUG not in slugs


async def test_tokens_are_signed_and_bound_to_scope_and_types(client: GraphQLClient) -> None:
    mirror = Mirror(client, ["NEWS"])
    await mirror.sync()
    assert mirror.token is not None
    body, _, signature = mirror.token.partition(".")
    payload = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload[1] = "drafts"  # claim a wider scope
    forged = base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")
    for token in (f"{forged}.{signature}", "garbage", "", mirror.token + "x", "a.b.c"):
        (error,) = await client.errors(SYNC, {"token": token})
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "token"}
        assert "начните синхронизацию заново" in error["message"]
    (error,) = await client.errors(SYNC, {"token": mirror.token, "types": ["TAG"]})
    assert error["extensions"]["argument"] == "token"
    await use_api_token(client, "read_drafts")  # another scope
    (error,) = await client.errors(SYNC, {"token": mirror.token})
    assert "другого уровня доступа" in error["message"]
    (error,) = await client.errors(SYNC, {"first": 101})
    assert error["extensions"]["argument"] == "first"


async def test_a_token_past_the_retention_must_start_over(db: TestDatabase) -> None:
    async with client_with(db, CMS_TRASH_RETENTION_DAYS="1") as client:
        mirror = Mirror(client, ["NEWS"])
        await mirror.sync()
    async with client_with(db, CMS_TRASH_RETENTION_DAYS="0") as client:
        await asyncio.sleep(0.01)
        (error,) = await client.errors(SYNC, {"token": mirror.token})
    assert error["extensions"] == {"code": "SYNC_TOKEN_EXPIRED", "argument": "token"}


async def test_a_delta_holds_only_what_changed(db: TestDatabase) -> None:
    async with client_with(db) as client:
        mirror = Mirror(client)
        await mirror.sync()
        (page,) = [(await client.data(SYNC, {"token": mirror.token}))["sync"]]
        assert page["items"] == page["deletions"] == []
        await sign_in(client, "editor")
        news = await create_news(client, title="Новость для синхронизации", tags=["синхро"])
        await mutate(client, PUBLISH_NEWS, {"id": news["id"]})
        client.headers.pop("authorization")
        page = (await client.data(SYNC, {"token": mirror.token}))["sync"]
        assert sorted(item["__typename"] for item in page["items"]) == ["News", "Tag"]
        assert page["deletions"] == []


async def test_statements_per_page_do_not_grow_with_its_size(db: TestDatabase) -> None:
    async with client_with(db) as client:
        mirror = Mirror(client, ["NEWS", "TAG"])
        await mirror.sync()
        await sign_in(client, "editor")
        for n in range(8):
            news = await create_news(client, tags=[f"тег-{n}"])
            await mutate(client, PUBLISH_NEWS, {"id": news["id"]})
        client.headers.pop("authorization")
        counts = []
        for first in (3, 16):
            response = await client.http.post(
                "/graphql",
                json={"query": SYNC, "variables": {"token": mirror.token, "first": first}},
            )
            body = response.json()["data"]["sync"]
            assert len(body["items"]) == first or body["nextSyncToken"]
            counts.append(int(response.headers["x-sql-count"]))
    # the bounds of the log, the changed keys, one read per kind on the page, and the
    # tags of the news (a dataloader), whatever the page's length
    assert counts[0] == counts[1], counts


EDITS = (
    "create",
    "publish",
    "schedule",
    "go_live",
    "update",
    "retag",
    "slug",
    "unpublish",
    "trash",
    "restore",
    "merge",
)


async def _edit(client: GraphQLClient, rng: random.Random, news: list[dict[str, Any]], edit: str):
    await sign_in(client, "admin")  # restoring from the trash is for admins
    try:
        if edit == "create" or not news:
            item = await create_news(client, title=f"Новость {rng.random()}", tags=["общий"])
            news.append(item)
            return
        item = rng.choice(news)
        current = await client.data(
            f'{{ node(id: "{item["id"]}") {{ ... on News {{ revision }} }} }}'
        )
        revision = (current["node"] or {}).get("revision")
        if edit == "publish":
            await mutate(client, PUBLISH_NEWS, {"id": item["id"]})
        elif edit == "schedule":
            at = (now() + timedelta(milliseconds=300)).isoformat()
            await mutate(client, PUBLISH_NEWS, {"id": item["id"], "at": at})
        elif edit == "go_live":
            await asyncio.sleep(0.35)  # whatever was scheduled has come
        elif edit in ("update", "retag", "slug") and revision is not None:
            change = {
                "update": {"title": f"Заголовок {rng.random()}", "lead": "Новый лид"},
                "retag": {"tags": rng.sample(["общий", "альфа", "бета", "гамма"], 2)},
                "slug": {"slug": f"novyy-adres-{rng.randrange(10**6)}"},
            }[edit]
            await mutate(client, UPDATE_NEWS, {"id": item["id"], "input": change, "rev": revision})
        elif edit == "unpublish":
            await mutate(client, UNPUBLISH_NEWS, {"id": item["id"]})
        elif edit == "trash":
            await mutate(client, DELETE_NEWS, {"id": item["id"]})
        elif edit == "restore":
            await client.data(RESTORE, {"id": item["id"]})
        elif edit == "merge":
            slugs = set(await Tag.all().values_list("slug", flat=True))
            if {"alfa", "beta"} <= slugs:
                await client.data(MERGE_TAGS, {"from": ["beta"], "into": "alfa"})
    finally:
        client.headers.pop("authorization", None)


@pytest.mark.parametrize("caller", ["anonymous", "read_drafts"])
async def test_a_mirror_always_equals_a_fresh_read(db: TestDatabase, caller: str) -> None:
    rng = random.Random(f"sync-{caller}")
    async with client_with(db) as client, client_with(db) as reader:
        if caller != "anonymous":
            await use_api_token(reader, caller)
        mirror = Mirror(reader, first=5)
        await mirror.sync()
        news: list[dict[str, Any]] = []
        for step in range(40):
            edit = rng.choice(EDITS) if step > 2 else "create"
            await _edit(client, rng, news, edit)
            # A scheduled item may go live at any moment, so the mirror is compared with
            # full reads just before and just after it syncs: it must equal one of them.
            before = await fresh(reader)
            await mirror.sync()
            after = await fresh(reader)
            assert mirror.items in (before, after), f"step {step}: {edit}"


async def test_concurrent_writers_lose_nothing(db: TestDatabase) -> None:
    """Writers commit while the integrator syncs: on PostgreSQL ids are handed out
    before commit, and late commits below the read position still arrive."""
    async with client_with(db) as reader:
        mirror = Mirror(reader, ["NEWS"], first=4)
        await mirror.sync()

        async def writer(n: int) -> None:
            async with client_with(db) as client:
                await sign_in(client, "editor")
                for i in range(5):
                    item = await create_news(client, title=f"Параллельно {n}-{i}")
                    await mutate(client, PUBLISH_NEWS, {"id": item["id"]})

        async def syncing() -> None:
            for _ in range(10):
                await mirror.sync()
                await asyncio.sleep(0)

        await asyncio.gather(*(writer(n) for n in range(4)), syncing())
        await mirror.sync()
        assert mirror.items == await fresh(reader, ["NEWS"])
        assert sum("Параллельно" in item["title"] for item in mirror.items.values()) == 20


async def test_the_database_records_the_writing_transaction(writer_client: GraphQLClient) -> None:
    """Writers never name `xact`: PostgreSQL fills it, SQLite (one writer) leaves it empty."""
    from tortoise.connection import get_connection

    await sign_in(writer_client, "editor")
    await create_news(writer_client, title="Транзакция")
    rows = await get_connection("default").execute_query_dict(
        "SELECT xact FROM revision ORDER BY id DESC LIMIT 1"
    )
    if BACKEND == "postgres":
        assert rows[0]["xact"] > 0
    else:
        assert rows[0]["xact"] is None
