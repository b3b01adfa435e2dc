"""Relay pagination: forward and backward, cursors, ties, totals, limits."""

from datetime import UTC, datetime, timedelta

import pytest

from cms.models import News, NewsTag, PublicationState, Tag
from tests.conftest import GraphQLClient, TestDatabase

PAGE = """
query($first: Int, $after: String, $last: Int, $before: String, $order: NewsOrder) {
  news(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
    totalCount
    edges { cursor node { slug } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
BASE = datetime(2024, 1, 1, tzinfo=UTC)
COUNT = 45


@pytest.fixture
async def many_news(db: TestDatabase) -> list[str]:
    """45 published news; every third shares its publication time with the previous one,
    so that the ordering has ties only the id can break. Newest first."""
    tag = await Tag.create(slug="paginatsiya", name="пагинация")
    slugs = []
    for i in range(COUNT):
        moment = BASE + timedelta(hours=i - (1 if i % 3 == 2 else 0))
        news = await News.create(
            slug=f"novost-{i:02d}",
            title=f"Новость {i:02d}",
            status=PublicationState.PUBLISHED,
            published_at=moment,
        )
        await NewsTag.create(news=news, tag=tag)
        slugs.append(news.slug)
    # The seed's own published news item is older than all of them.
    return [*reversed(slugs)]


def slugs_of(connection: dict) -> list[str]:
    return [edge["node"]["slug"] for edge in connection["edges"]]


async def test_forward_pages_cover_everything_once(
    writer_client: GraphQLClient, many_news: list[str]
) -> None:
    seen: list[str] = []
    after = None
    while True:
        connection = (await writer_client.data(PAGE, {"first": 7, "after": after}))["news"]
        assert connection["totalCount"] == COUNT + 1
        assert connection["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += slugs_of(connection)
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert seen[:COUNT] == many_news
    assert len(seen) == len(set(seen)) == COUNT + 1


async def test_backward_pages_mirror_forward_ones(
    writer_client: GraphQLClient, many_news: list[str]
) -> None:
    seen: list[str] = []
    before = None
    while True:
        connection = (await writer_client.data(PAGE, {"last": 10, "before": before}))["news"]
        assert connection["pageInfo"]["hasNextPage"] is (before is not None)
        seen = slugs_of(connection) + seen
        if not connection["pageInfo"]["hasPreviousPage"]:
            break
        before = connection["pageInfo"]["startCursor"]
    assert seen[:COUNT] == many_news
    assert len(seen) == COUNT + 1


async def test_a_cursor_works_in_both_directions(
    writer_client: GraphQLClient, many_news: list[str]
) -> None:
    first_page = (await writer_client.data(PAGE, {"first": 10}))["news"]
    middle = first_page["edges"][5]["cursor"]
    after = (await writer_client.data(PAGE, {"first": 3, "after": middle}))["news"]
    before = (await writer_client.data(PAGE, {"last": 3, "before": middle}))["news"]
    assert slugs_of(after) == many_news[6:9]
    assert slugs_of(before) == many_news[2:5]


async def test_ascending_order_and_zero_sized_pages(
    writer_client: GraphQLClient, many_news: list[str]
) -> None:
    ascending = (await writer_client.data(PAGE, {"first": 3, "order": "PUBLISHED_AT_ASC"}))["news"]
    assert slugs_of(ascending)[1:] == list(reversed(many_news))[:2]
    empty = (await writer_client.data(PAGE, {"first": 0}))["news"]
    assert empty["edges"] == []
    assert empty["pageInfo"]["hasNextPage"] is False
    assert empty["totalCount"] == COUNT + 1


async def test_a_cursor_of_another_ordering_is_refused(
    writer_client: GraphQLClient, many_news: list[str]
) -> None:
    cursor = (await writer_client.data(PAGE, {"first": 1}))["news"]["pageInfo"]["endCursor"]
    errors = await writer_client.errors(PAGE, {"first": 1, "after": cursor, "order": "TITLE_ASC"})
    assert errors[0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}


async def test_nested_news_of_a_tag_pages_with_cursors(
    writer_client: GraphQLClient, many_news: list[str]
) -> None:
    query = """
    query($after: String) { tag(slug: "paginatsiya") { newsCount
      news(first: 20, after: $after) { totalCount edges { node { slug } }
        pageInfo { hasNextPage endCursor } } } }
    """
    seen: list[str] = []
    after = None
    for _ in range(5):
        tag = (await writer_client.data(query, {"after": after}))["tag"]
        assert tag["newsCount"] == tag["news"]["totalCount"] == COUNT
        seen += slugs_of(tag["news"])
        if not tag["news"]["pageInfo"]["hasNextPage"]:
            break
        after = tag["news"]["pageInfo"]["endCursor"]
    assert seen == many_news


async def test_events_latest_first_with_undated_ones_last(writer_client: GraphQLClient) -> None:
    from datetime import date

    from cms.models import Event

    await Event.create(slug="bez-daty", title="Без даты")
    await Event.create(slug="budushchee", title="Будущее", starts_on=date(2030, 1, 1))
    await Event.create(slug="proshloe", title="Прошлое", starts_on=date(2001, 1, 1))
    query = """query($after: String) { events(first: 2, after: $after) {
      edges { node { slug } } pageInfo { hasNextPage endCursor } } }"""
    seen: list[str] = []
    after = None
    while True:
        events = (await writer_client.data(query, {"after": after}))["events"]
        seen += [edge["node"]["slug"] for edge in events["edges"]]
        if not events["pageInfo"]["hasNextPage"]:
            break
        after = events["pageInfo"]["endCursor"]
    assert seen == ["budushchee", "amurekspoforum-2023", "proshloe", "bez-daty"]
