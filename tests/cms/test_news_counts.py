"""The maintained news counters (table news_count, kept by triggers) against real COUNTs.

Every way news and their tag and region links change goes through here: the
GraphQL mutations, the services, bulk loads, hard deletes, merges, and many
publishes at once on separate connections. After each step the stored counters
must equal a COUNT(*) of the live rows, and `totalCount` what a COUNT of the
visible list gives.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from tortoise.connection import get_connection

from cms.models import News, NewsCount, NewsRegion, NewsTag, PublicationState, Region, Role, Tag
from cms.services import editing
from cms.services.content_types import NEWS
from cms.services.demo import generate_demo
from cms.services.news import NewsFilter, news_queryset
from cms.services.trash import purge_trash
from cms.services.viewer import Viewer
from cms.services.visibility import now
from tests.conftest import GraphQLClient, TestDatabase
from tests.editing.helpers import (
    DELETE_NEWS,
    PUBLISH_NEWS,
    RESTORE,
    UPDATE_NEWS,
    create_news,
    mutate,
    sign_in,
)

LIVE = "n.status = 'published' AND n.deleted_at IS NULL AND n.published_at IS NOT NULL"
TOTALS = """
query($tag: String!, $region: String) {
  all: news { totalCount }
  byTag: news(filter: {tag: $tag}) { totalCount }
  byTags: news(filter: {tags: [$tag]}) { totalCount }
  byRegion: news(filter: {region: $region}) { totalCount }
  tag(slug: $tag) { newsCount news(first: 1) { totalCount } }
}
"""


async def real_counts() -> dict[tuple[str, int], int]:
    """COUNT(*) of the live news, all and per tag and region, straight from the rows."""
    connection = get_connection("default")
    counts: dict[tuple[str, int], int] = {}
    rows = await connection.execute_query_dict(f"SELECT COUNT(*) AS c FROM news n WHERE {LIVE}")
    counts[("all", 0)] = rows[0]["c"]
    for scope, table, column in (
        ("tag", "news_tag", "tag_id"),
        ("region", "news_region", "region_id"),
    ):
        rows = await connection.execute_query_dict(
            f"SELECT l.{column} AS id, COUNT(*) AS c FROM {table} l "
            f"JOIN news n ON n.id = l.news_id WHERE {LIVE} GROUP BY l.{column}"
        )
        counts.update({(scope, row["id"]): row["c"] for row in rows})
    return counts


async def stored_counts() -> dict[tuple[str, int], int]:
    rows = await NewsCount.all().values("scope", "scope_id", "n")
    assert all(row["n"] >= 0 for row in rows), rows
    return {
        (row["scope"], row["scope_id"]): row["n"]
        for row in rows
        if row["n"] or row["scope"] == "all"
    }


async def assert_exact() -> None:
    assert await stored_counts() == await real_counts()


async def assert_totals(client: GraphQLClient, tag: str, region: str = "RU-AMU") -> None:
    """totalCount (from the counters) equals a COUNT of the visible list, anonymously."""
    saved = client.headers.pop("authorization", None)
    try:
        data = await client.data(TOTALS, {"tag": tag, "region": region})
    finally:
        if saved is not None:
            client.headers["authorization"] = saved
    anonymous = Viewer()
    expected = {
        "all": await news_queryset(anonymous, NewsFilter()).count(),
        "byTag": await news_queryset(anonymous, NewsFilter(tag=tag)).count(),
        "byTags": await news_queryset(anonymous, NewsFilter(tags=(tag,))).count(),
        "byRegion": await news_queryset(anonymous, NewsFilter(region=region)).count(),
    }
    tag_data = data.pop("tag")
    assert {key: value["totalCount"] for key, value in data.items()} == expected
    if tag_data is not None:  # Tag.newsCount and tag.news.totalCount, from the counters
        assert tag_data["newsCount"] == tag_data["news"]["totalCount"] == expected["byTag"]


async def test_the_migration_counts_the_existing_news(db: TestDatabase) -> None:
    # The seed was loaded after the migration: the triggers counted it row by row.
    assert (await stored_counts())[("all", 0)] >= 1
    await assert_exact()


async def test_counters_follow_every_mutation(writer_client: GraphQLClient, db: TestDatabase):
    client = writer_client
    await sign_in(client, "editor")
    await assert_exact()
    first = await create_news(
        client, title="Счётчик первый", tags=["Альфа", "Бета"], regions=["RU-AMU"]
    )
    await assert_exact()
    await assert_totals(client, "alfa")

    payload = await mutate(client, PUBLISH_NEWS, {"id": first["id"]})
    assert payload["errors"] == []
    await assert_exact()
    await assert_totals(client, "alfa")

    payload = await mutate(
        client, UPDATE_NEWS, {"id": first["id"], "input": {"tags": ["Бета", "Гамма"]}}
    )
    assert payload["errors"] == []
    await assert_exact()
    await assert_totals(client, "gamma")
    await assert_totals(client, "alfa")

    # Scheduled: counted as live, hidden from the totals until its moment.
    second = await create_news(client, title="Счётчик второй", tags=["Альфа"], regions=["RU-ALT"])
    later = (now() + timedelta(days=3)).isoformat()
    payload = await mutate(client, PUBLISH_NEWS, {"id": second["id"], "at": later})
    assert payload["errors"] == []
    await assert_exact()
    await assert_totals(client, "alfa", "RU-ALT")

    payload = await mutate(
        client,
        "mutation($id: ID!) { unpublishNews(id: $id) { errors { code } } }",
        {"id": first["id"]},
    )
    assert payload["errors"] == []
    await assert_exact()
    await assert_totals(client, "beta")
    payload = await mutate(client, PUBLISH_NEWS, {"id": first["id"]})
    assert payload["errors"] == []
    await assert_exact()

    payload = await mutate(client, DELETE_NEWS, {"id": first["id"]})
    assert payload["errors"] == []
    await assert_exact()
    await assert_totals(client, "beta")
    await sign_in(client, "admin")
    payload = await mutate(client, RESTORE, {"id": first["id"]})
    assert payload["errors"] == []
    await assert_exact()
    await assert_totals(client, "beta")

    payload = await mutate(
        client,
        'mutation { mergeTags(input: {from: ["beta", "gamma"], into: "alfa"}) '
        "{ errors { code } } }",
    )
    assert payload["errors"] == []
    await assert_exact()
    await assert_totals(client, "alfa")
    await assert_totals(client, "beta")  # the old slug of a merged tag still selects

    payload = await mutate(
        client, UPDATE_NEWS, {"id": first["id"], "input": {"tags": [], "regions": []}}
    )
    assert payload["errors"] == []
    await assert_exact()
    await assert_totals(client, "alfa")


async def test_counters_follow_direct_writes(writer_client: GraphQLClient, db: TestDatabase):
    """Bulk loads, hard deletes (cascading to links), link updates and purges."""
    await generate_demo(120, seed=5)
    await assert_exact()
    await assert_totals(writer_client, "sotrudnichestvo")
    live = await News.filter(status=PublicationState.PUBLISHED, deleted_at__isnull=True).limit(10)
    await News.filter(id__in=[item.pk for item in live[:5]]).delete()
    await assert_exact()
    tag = await Tag.filter(news_links__news_id=live[5].pk).first()
    assert tag is not None
    other = await Tag.exclude(id=tag.pk).first()
    assert other is not None
    await NewsTag.filter(news_id=live[5].pk, tag_id=tag.pk).update(tag_id=other.pk)
    await NewsTag.filter(news_id=live[6].pk).delete()
    await NewsRegion.filter(news_id=live[7].pk).delete()
    await assert_exact()
    await News.filter(id=live[8].pk).update(deleted_at=now())
    await News.filter(id=live[9].pk).update(published_at=None)
    await assert_exact()
    await Tag.filter(id=other.pk).delete()  # cascades to its links
    spare = await Region.create(code="RU-TST", name="Тестовый край")
    await NewsRegion.create(news_id=live[5].pk, region=spare, position=9)
    await assert_exact()
    await spare.delete()  # cascades to its links
    await assert_exact()
    await purge_trash(now() + timedelta(days=1))
    await assert_exact()
    await assert_totals(writer_client, "sotrudnichestvo")


async def test_concurrent_publishes_stay_exact(db: TestDatabase) -> None:
    """Many publishes, unpublishes and deletes at once, each on its own connection
    (a pool on PostgreSQL): the counter rows serialise them."""
    editor = Viewer(user_id=None, role=Role.EDITOR)
    tags = [await Tag.create(slug=f"parallel-{n}", name=f"Параллель {n}") for n in range(3)]
    region = await Region.get(code="RU-AMU")
    items = []
    for n in range(40):
        item = await News.create(slug=f"parallel-news-{n}", title=f"Параллельная {n}")
        await NewsTag.create(news=item, tag=tags[n % 3], position=0)
        await NewsTag.create(news=item, tag=tags[(n + 1) % 3], position=1)
        if n % 2:
            await NewsRegion.create(news=item, region=region, position=0)
        items.append(item)
    await assert_exact()

    async def publish(item: News) -> Any:
        return await editing.publish(NEWS, editor, item.pk, None)

    await asyncio.gather(*(publish(item) for item in items))
    await assert_exact()
    assert (await NewsCount.get(scope="tag", scope_id=tags[0].pk)).n >= 26

    async def churn(n: int, item: News) -> Any:
        if n % 4 == 0:
            return await editing.unpublish(NEWS, editor, item.pk)
        if n % 4 == 1:
            return await editing.delete(NEWS, editor, item.pk)
        if n % 4 == 2:
            return await editing.publish(NEWS, editor, item.pk, now() + timedelta(days=1))
        return await editing.publish(NEWS, editor, item.pk, None)

    await asyncio.gather(*(churn(n, item) for n, item in enumerate(items)))
    await assert_exact()
    assert (await NewsCount.get(scope="tag", scope_id=tags[0].pk)).n == sum(
        1
        for n in range(40)
        if n % 4 in (2, 3) and tags[0].pk in (tags[n % 3].pk, tags[(n + 1) % 3].pk)
    )


async def test_an_update_undone_by_a_deadlock_is_tried_again(db: TestDatabase, monkeypatch):
    """PostgreSQL breaks a lock cycle on the counters by undoing one transaction: the
    service tries it again instead of failing the request."""

    class DeadlockDetectedError(Exception):
        sqlstate = "40P01"

    item = await News.create(slug="deadlock-news", title="Взаимная блокировка")
    real_apply = editing._apply
    calls = 0

    async def apply_once_undone(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise DeadlockDetectedError("deadlock detected")
        await real_apply(*args, **kwargs)

    monkeypatch.setattr(editing, "_apply", apply_once_undone)
    editor = Viewer(user_id=None, role=Role.EDITOR)
    published = await editing.publish(NEWS, editor, item.pk, None)
    assert calls == 2
    assert published.status == PublicationState.PUBLISHED
    await assert_exact()


async def test_concurrent_retagging_of_live_news_stays_exact(db: TestDatabase) -> None:
    """Editors re-tag many published news at once, in opposite tag orders (each on its
    own connection on PostgreSQL): the counters of every tag stay exact, and every
    request succeeds (PostgreSQL's deadlock victims are tried again)."""
    from cms.errors import ValidationFailedError
    from cms.services.news_editing import news_form

    editor = Viewer(user_id=None, role=Role.EDITOR)
    names = [f"Ротация {n}" for n in range(4)]
    for n, name in enumerate(names):
        await Tag.create(slug=f"rotatsiya-{n}", name=name)
    items = []
    for n in range(24):
        item = await editing.create(NEWS, editor, news_form({"title": f"Ротация {n}"}, editor, ()))
        await editing.publish(NEWS, editor, item.pk, None)
        items.append(item)
    await assert_exact()

    async def retag(n: int, item: News) -> Any:
        tags = names[n % 4 :] + names[: n % 4]
        if n % 2:
            tags.reverse()
        return await editing.update(NEWS, editor, item.pk, news_form({"tags": tags}, editor, ()))

    results = await asyncio.gather(
        *(retag(n, item) for n, item in enumerate(items)), return_exceptions=True
    )
    failures = [result for result in results if isinstance(result, BaseException)]
    assert all(isinstance(failure, ValidationFailedError) for failure in failures), failures
    assert failures == [], failures  # deadlock victims are retried, not refused
    await assert_exact()
    first = await Tag.get(slug="rotatsiya-0")  # every retagged item has all four tags
    assert (await NewsCount.get(scope="tag", scope_id=first.pk)).n == len(items) - len(failures)


async def test_several_scheduled_news_of_a_tag(writer_client: GraphQLClient, db: TestDatabase):
    """The scheduled part of a tag's count is one number, however many there are."""
    tag = await Tag.create(slug="zaplanirovano", name="Запланировано")
    moments = [now() - timedelta(hours=1), now() + timedelta(days=1), now() + timedelta(days=2)]
    for n, moment in enumerate(moments):
        item = await News.create(
            slug=f"scheduled-{n}",
            title=f"Запланированная {n}",
            status=PublicationState.PUBLISHED,
            published_at=moment,
        )
        await NewsTag.create(news=item, tag=tag, position=0)
    await assert_exact()
    await assert_totals(writer_client, "zaplanirovano")
    data = await writer_client.data('{ news(filter: {tag: "zaplanirovano"}) { totalCount } }')
    assert data["news"]["totalCount"] == 1
