"""`news(filter: {search}, orderBy: RELEVANCE)`: best match first, keyset pages exact
(the cursor carries the score and the id), on the backend under test."""

from __future__ import annotations

from datetime import timedelta

from cms.models import News
from cms.services.visibility import now
from tests.conftest import GraphQLClient, TestDatabase, client_with
from tests.editing.helpers import sign_in
from tests.search import corpus
from tests.seed_content import DRAFT_NEWS_SLUG, NEWS_SLUG

LIST = """
query ($search: String, $order: NewsOrder!, $first: Int, $after: String, $last: Int,
       $before: String) {
  news(filter: {search: $search}, orderBy: $order, first: $first, after: $after, last: $last,
       before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { slug } }
  }
}
"""


def _slugs(page: dict) -> list[str]:
    return [edge["node"]["slug"] for edge in page["edges"]]


async def test_relevance_orders_by_score_and_pages_by_keyset(empty_db: TestDatabase) -> None:
    await corpus.build()
    moment = now() - timedelta(days=60)
    # Equal scores (the word once in the title): the larger id first.
    for n in range(4):
        await News.create(
            slug=f"tie-{n}", title=f"Космодром {n}", status=corpus.PUBLISHED, published_at=moment
        )
    async with client_with(empty_db) as client:
        variables = {"search": "космодром", "order": "RELEVANCE", "first": 50}
        whole = (await client.data(LIST, variables))["news"]
        slugs = _slugs(whole)
        # Title matches («Космодром …») before the one in a body.
        assert slugs[-1] == "corpus-cosmodrome_body", slugs
        assert slugs[:4] == ["tie-3", "tie-2", "tie-1", "tie-0"], slugs
        assert set(slugs) == {"corpus-cosmodrome", "corpus-cosmodrome_body"} | {
            f"tie-{n}" for n in range(4)
        }
        assert whole["totalCount"] == len(slugs)
        # Date order is unchanged by default.
        dated = (await client.data(LIST, {**variables, "order": "PUBLISHED_AT_DESC"}))["news"]
        assert _slugs(dated)[0] == "corpus-cosmodrome_body"
        # Forward in pages of two, then back from the end.
        seen: list[str] = []
        after = None
        while True:
            page = (await client.data(LIST, {**variables, "first": 2, "after": after}))["news"]
            seen += _slugs(page)
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert seen == slugs
        last = page["pageInfo"]["endCursor"]
        back = (
            await client.data(
                LIST, {"search": "космодром", "order": "RELEVANCE", "last": 3, "before": last}
            )
        )["news"]
        assert _slugs(back) == slugs[-4:-1]
        assert back["pageInfo"]["hasPreviousPage"] is True


async def test_relevance_with_other_filters_and_staff(writer_client: GraphQLClient) -> None:
    client = writer_client
    query = """query ($f: NewsFilter) { news(filter: $f, orderBy: RELEVANCE, first: 5) {
      totalCount edges { node { slug } } } }"""
    tagged = (
        await client.data(query, {"f": {"search": "сотрудничества", "tag": "sotrudnichestvo"}})
    )["news"]
    assert [edge["node"]["slug"] for edge in tagged["edges"]] == [NEWS_SLUG]
    assert tagged["totalCount"] == 1
    await sign_in(client, "editor")
    drafts = (
        await client.data(query, {"f": {"search": "черновик", "statuses": ["DRAFT", "PUBLISHED"]}})
    )["news"]
    assert DRAFT_NEWS_SLUG in [edge["node"]["slug"] for edge in drafts["edges"]]


async def test_relevance_needs_a_search(client: GraphQLClient) -> None:
    for search in (None, "   "):
        errors = await client.errors(LIST, {"search": search, "order": "RELEVANCE"})
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert errors[0]["extensions"]["argument"] == "orderBy"
    # A cursor of another order is refused.
    dated = (await client.data(LIST, {"search": "края", "order": "PUBLISHED_AT_DESC"}))["news"]
    cursor = dated["pageInfo"]["endCursor"]
    errors = await client.errors(LIST, {"search": "края", "order": "RELEVANCE", "after": cursor})
    assert errors[0]["extensions"]["argument"] == "after"
