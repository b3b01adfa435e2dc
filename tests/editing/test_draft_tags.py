"""Tags named by news items: a tag a draft brought in stays hidden until something
public uses it, and news created at once that name the same new tag share it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from cms.models import News, NewsTag, PublicationState, Tag
from cms.services.ids import encode_global_id
from cms.services.visibility import now
from tests.conftest import GraphQLClient, TestDatabase, client_with
from tests.editing.helpers import CREATE_NEWS, PUBLISH_NEWS, create_news, mutate, sign_in

PUBLIC_TAG = """
query($slug: String!, $search: String!, $id: ID!) {
  tag(slug: $slug) { slug }
  tags(search: $search) { totalCount edges { node { slug } } }
  node(id: $id) { id }
}
"""


async def _public_view(client: GraphQLClient, tag: Tag, **headers: str) -> dict:
    variables = {"slug": tag.slug, "search": tag.name, "id": encode_global_id("Tag", tag.pk)}
    result = await client.post(PUBLIC_TAG, variables, **headers)
    assert "errors" not in result, result
    return result["data"]


async def test_a_tag_of_a_draft_is_hidden_until_the_news_is_published(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    await sign_in(writer_client, "author")
    news = await create_news(writer_client, title="Черновик", tags=["Секретный проект"])
    author_header = writer_client.headers["authorization"]
    tag = await Tag.get(name="Секретный проект")
    hidden = {"tag": None, "tags": {"totalCount": 0, "edges": []}, "node": None}
    assert await _public_view(writer_client, tag, authorization="") == hidden
    # The author (who reads drafts) sees it.
    seen = await _public_view(writer_client, tag, authorization=author_header)
    assert seen["tag"] == {"slug": tag.slug}
    await sign_in(writer_client, "editor")
    published = await mutate(writer_client, PUBLISH_NEWS, {"id": news["id"]})
    assert published["errors"] == []
    shown = await _public_view(writer_client, tag, authorization="")
    assert shown["tag"] == {"slug": tag.slug}
    assert shown["tags"]["totalCount"] == 1
    assert shown["node"] == {"id": encode_global_id("Tag", tag.pk)}


async def test_a_published_news_shows_only_its_tags_not_a_drafts(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    await sign_in(writer_client, "editor")
    await create_news(writer_client, title="Ещё черновик", tags=["сотрудничество", "Новинка"])
    new_tag = await Tag.get(name="Новинка")
    assert (await _public_view(writer_client, new_tag, authorization=""))["tag"] is None
    # A tag that published news use stays public when a draft names it too.
    shared = await Tag.get(slug="sotrudnichestvo")
    assert (await _public_view(writer_client, shared, authorization=""))["tag"] is not None


async def test_a_tag_of_scheduled_news_appears_when_the_news_goes_live(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    """The present moment is a bound parameter of the tag's condition (its statement
    text stays the same between requests): compared right, on the tag itself and on
    the tags of a news item."""
    due = await Tag.create(slug="skoro", name="Скоро")
    live = await Tag.create(slug="uzhe", name="Уже")
    moments = {due: now() + timedelta(hours=1), live: now() - timedelta(seconds=1)}
    for tag, moment in moments.items():
        item = await News.create(
            slug=f"plan-{tag.slug}",
            title=f"План {tag.name}",
            status=PublicationState.PUBLISHED,
            published_at=moment,
        )
        await NewsTag.create(news=item, tag=tag, position=0)
    assert (await _public_view(writer_client, due, authorization=""))["tag"] is None
    assert (await _public_view(writer_client, live, authorization=""))["tag"] == {"slug": "uzhe"}
    item = await writer_client.post(
        '{ newsItem(slug: "plan-uzhe") { tags { slug } } }', authorization=""
    )
    assert item["data"] == {"newsItem": {"tags": [{"slug": "uzhe"}]}}, item


@pytest.mark.parametrize("callers", [4])
async def test_concurrent_news_naming_one_new_tag_share_it(db: TestDatabase, callers: int) -> None:
    """Real concurrent HTTP requests (separate connections on PostgreSQL)."""
    async with client_with(db) as client:
        await sign_in(client, "editor")
        requests = [
            client.post(
                CREATE_NEWS,
                {"input": {"title": f"Новость {number}", "tags": ["Одновременный тег"]}},
            )
            for number in range(callers)
        ]
        answers = await asyncio.gather(*requests)
    payloads = [answer["data"]["createNews"] for answer in answers]
    assert [payload["errors"] for payload in payloads] == [[]] * callers, payloads
    (tag,) = await Tag.filter(name="Одновременный тег")
    assert await NewsTag.filter(tag_id=tag.pk).count() == callers
