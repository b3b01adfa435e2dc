"""Publication (now, scheduled, withdrawn) and concurrent edits of one item."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from cms.models import AuditEntry, News, Revision
from cms.services.events import ContentChange, subscribe, unsubscribe
from graphql_schema.relay import parse_global_id
from tests.conftest import GraphQLClient, TestDatabase
from tests.editing.helpers import PUBLISH_NEWS, UPDATE_NEWS, create_news, mutate, sign_in

ANONYMOUS_READ = """
query($slug: String) { newsItem(slug: $slug) { slug status }
  news(first: 100) { totalCount edges { node { slug } } } }
"""


async def read_anonymously(client: GraphQLClient, slug: str) -> dict:
    result = await client.post(ANONYMOUS_READ, {"slug": slug}, authorization="")
    assert "errors" not in result, result
    return result["data"]


async def test_scheduled_news_appears_at_its_time_with_nothing_run(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    await sign_in(writer_client, "editor")
    news = await create_news(writer_client, title="Запланированная новость")
    changes: list[ContentChange] = []

    async def listen(change: ContentChange) -> None:
        changes.append(change)

    subscribe(listen)
    try:
        at = datetime.now(UTC) + timedelta(seconds=1)
        payload = await mutate(
            writer_client, PUBLISH_NEWS, {"id": news["id"], "at": at.isoformat()}
        )
    finally:
        unsubscribe(listen)
    assert payload["errors"] == []
    published = payload["news"]
    assert published["status"] == "SCHEDULED"
    assert published["revision"] == news["revision"] + 1
    assert published["updatedAt"] > news["updatedAt"]
    assert changes[-1].action == "published"
    before = await read_anonymously(writer_client, news["slug"])
    assert before["newsItem"] is None
    assert news["slug"] not in str(before["news"])
    await asyncio.sleep(1.1)
    after = await read_anonymously(writer_client, news["slug"])
    assert after["newsItem"] == {"slug": news["slug"], "status": "PUBLISHED"}
    assert after["news"]["totalCount"] == before["news"]["totalCount"] + 1


async def test_publish_now_and_unpublish(writer_client: GraphQLClient, db: TestDatabase) -> None:
    await sign_in(writer_client, "editor")
    news = await create_news(writer_client, title="Сразу в печать")
    payload = await mutate(writer_client, PUBLISH_NEWS, {"id": news["id"]})
    assert payload["news"]["status"] == "PUBLISHED"
    assert (await read_anonymously(writer_client, news["slug"]))["newsItem"] is not None
    unpublished = await mutate(
        writer_client,
        "mutation($id: ID!) { unpublishNews(id: $id) { news { status revision publishedAt } "
        "errors { code } } }",
        {"id": news["id"]},
    )
    assert unpublished == {
        "news": {"status": "DRAFT", "revision": 3, "publishedAt": None},
        "errors": [],
    }
    assert (await read_anonymously(writer_client, news["slug"]))["newsItem"] is None


async def test_two_updates_with_the_same_expected_revision(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    first = await sign_in(writer_client, "editor")
    first_header = writer_client.headers["authorization"]
    news = await create_news(writer_client, title="Исходный заголовок")
    second = await sign_in(writer_client, "editor")
    second_header = writer_client.headers["authorization"]
    answers = await asyncio.gather(
        writer_client.post(
            UPDATE_NEWS,
            {"id": news["id"], "input": {"title": "Правка первого"}, "rev": 1},
            authorization=first_header,
        ),
        writer_client.post(
            UPDATE_NEWS,
            {"id": news["id"], "input": {"lead": "Правка второго"}, "rev": 1},
            authorization=second_header,
        ),
    )
    payloads = [answer["data"]["updateNews"] for answer in answers]
    winners = [index for index, payload in enumerate(payloads) if payload["errors"] == []]
    assert len(winners) == 1, payloads
    winner, loser = winners[0], 1 - winners[0]
    assert [error["code"] for error in payloads[loser]["errors"]] == ["CONFLICT"]
    assert payloads[loser]["news"] is None
    authors = (first, second)
    _, pk = parse_global_id(news["id"])
    stored = await News.get(id=pk)
    assert stored.revision == 2
    # The winner's change, and nothing of the loser's.
    if winner == 0:
        assert (stored.title, stored.lead) == ("Правка первого", None)
    else:
        assert (stored.title, stored.lead) == ("Исходный заголовок", "Правка второго")
    history = await Revision.filter(content_type="News", object_id=pk).order_by("number")
    assert [(row.number, row.author_id) for row in history] == [  # type: ignore[attr-defined]
        (1, first.pk),
        (2, authors[winner].pk),
    ]
    assert history[1].changed_fields == (["title"] if winner == 0 else ["lead"])
    audit = await AuditEntry.filter(action="updateNews", object_id=news["id"]).order_by("id")
    assert sorted((entry.actor, entry.succeeded) for entry in audit) == sorted(
        [(authors[winner].email, True), (authors[loser].email, False)]
    )
    # The loser reloads and re-applies: nothing is lost.
    retry_input = {"title": "Правка первого"} if loser == 0 else {"lead": "Правка второго"}
    retried = (
        await writer_client.post(
            UPDATE_NEWS,
            {"id": news["id"], "input": retry_input, "rev": 2},
            authorization=(first_header, second_header)[loser],
        )
    )["data"]["updateNews"]
    assert retried["errors"] == []
    assert retried["news"]["title"] == "Правка первого"
    assert retried["news"]["lead"] == "Правка второго"
    assert retried["news"]["revision"] == 3


async def test_stale_expected_revision_overwrites_nothing(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    await sign_in(writer_client, "editor")
    news = await create_news(writer_client, title="Первая версия")
    await mutate(writer_client, UPDATE_NEWS, {"id": news["id"], "input": {"lead": "Лид"}})
    stale = await mutate(
        writer_client, UPDATE_NEWS, {"id": news["id"], "input": {"title": "Старая"}, "rev": 1}
    )
    assert stale["news"] is None
    assert stale["errors"][0]["code"] == "CONFLICT"
    assert "ревизия 2" in stale["errors"][0]["message"]
    _, pk = parse_global_id(news["id"])
    stored = await News.get(id=pk)
    assert (stored.title, stored.revision) == ("Первая версия", 2)
