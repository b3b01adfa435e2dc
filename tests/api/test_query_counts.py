"""SQL statements per GraphQL operation: pinned, and constant in page size and breadth.

Each count is what the operation needs with DataLoaders: one statement per
list level or relation, whatever the number of items on the page.
"""

from datetime import date

import pytest

from cms.db import count_statements
from cms.models import (
    ActionPlan,
    Agreement,
    Enterprise,
    PublicationState,
    Region,
    Visit,
    VisitEnterprise,
)
from cms.services.demo import generate_demo
from tests.conftest import GraphQLClient, TestDatabase, client_with
from tests.seed_content import AGREEMENT_SLUG, NEWS_SLUG

NEWS_LIST = """
query($first: Int) { news(first: $first) { totalCount
  edges { cursor node { id slug title lead publishedAt url tags { name slug } } }
  pageInfo { hasNextPage endCursor } } }
"""
# Compiled (graphql_schema/compiler, on by default): one statement builds the answer.
NEWS_LIST_STATEMENTS = 1
# Through Strawberry: the page, its count, the tags of every item on it.
NEWS_LIST_STRAWBERRY_STATEMENTS = 3

NEWS_BY_TAG = """
query($first: Int) { news(first: $first, filter: {tag: "sotrudnichestvo"}) {
  edges { node { slug title publishedAt tags { name } regions { code } } } } }
"""
NEWS_BY_TAG_STATEMENTS = 1  # compiled
NEWS_BY_TAG_STRAWBERRY_STATEMENTS = 3  # the page, tags, regions

NEWS_ITEM = """
query($slug: String) { newsItem(slug: $slug) { title lead body { html text }
  readingTimeMinutes tags { name } regions { name } events { title }
  agreements { title } visit { title } quotes { text person { fullName
  organization { name } } } cover { url } } }
"""
NEWS_ITEM_STATEMENTS = 1  # compiled
# Through Strawberry: the item; tags, regions, events, agreements, quotes with persons,
# the visit; organizations
NEWS_ITEM_STRAWBERRY_STATEMENTS = 8

DEEP_AGREEMENT = """
query($slug: String) { agreement(slug: $slug) { title parties { name region { name } }
  actionPlans { title directions { name } signatories { fullName }
    items { title direction { name } event { title } }
    visits { title organizer { name } delegationRegion { name }
      enterprises { name locality industries location { lat lon } } }
    visitedEnterprises { name locality } } } }
"""
DEEP_AGREEMENT_STATEMENTS = 1  # compiled
# Through Strawberry: agreement; parties; regions; plans; directions; signatories;
# items; visits; visited enterprises; item directions; item events; organizers;
# visit enterprises; industries
DEEP_AGREEMENT_STRAWBERRY_STATEMENTS = 14
# Regions are asked for at two depths (the parties' regions, the visits' delegation
# regions), and one batch serves both when their loads fall in the same turn of the
# event loop. On SQLite statements run one at a time in the order asked, and they
# always do; on PostgreSQL the parties and the visits are read side by side on two
# connections, and when the parties answer last the regions take a second statement.
DEEP_AGREEMENT_STRAWBERRY_STATEMENTS_POSTGRES = {14, 15}

# Every public root list at once, news read backwards: compiled, one statement.
ROOT_LISTS = """
query($last: Int) { news(last: $last, orderBy: TITLE_ASC) { totalCount
    edges { cursor node { title } } pageInfo { hasPreviousPage startCursor } }
  tags(first: 5) { totalCount edges { node { name } } }
  agreements(filter: {agreementStatus: ACTIVE}) { totalCount edges { node { title } } }
  actionPlans { edges { node { title } } }
  enterprises(filter: {region: "RU-AMU"}) { totalCount edges { node { name region { code } } } }
  events { edges { node { title } } pageInfo { hasNextPage } } }
"""
ROOT_LISTS_STATEMENTS = 1  # compiled
# Connections of items (Tag.news, Agreement.news, Region.enterprises): compiled too.
ITEM_LISTS = """
{ tag(slug: "sotrudnichestvo") { news(first: 2) { totalCount edges { cursor node { title } }
    pageInfo { hasNextPage endCursor } } }
  agreements { edges { node { news(first: 1) { totalCount edges { node { slug } } } } } }
  enterprises(first: 1) { edges { node { region { enterprises(first: 3) { totalCount
    edges { node { name } } } } } } } }
"""
ITEM_LISTS_STATEMENTS = 1  # compiled
NODE = """
query($id: ID!) { node(id: $id) { id ... on News { title tags { name } regions { code } } } }
"""
NODE_STATEMENTS = 1  # compiled


async def statements_of(client: GraphQLClient, query: str, variables: dict) -> int:
    with count_statements() as statements:
        await client.data(query, variables)
    return len(statements)


async def test_pinned_counts_on_the_seed(client: GraphQLClient) -> None:
    assert await statements_of(client, NEWS_LIST, {"first": 20}) == NEWS_LIST_STATEMENTS
    assert await statements_of(client, NEWS_BY_TAG, {"first": 20}) == NEWS_BY_TAG_STATEMENTS
    assert await statements_of(client, NEWS_ITEM, {"slug": NEWS_SLUG}) == NEWS_ITEM_STATEMENTS
    deep = await statements_of(client, DEEP_AGREEMENT, {"slug": AGREEMENT_SLUG})
    assert deep == DEEP_AGREEMENT_STATEMENTS
    assert await statements_of(client, ROOT_LISTS, {"last": 3}) == ROOT_LISTS_STATEMENTS
    assert await statements_of(client, ITEM_LISTS, {}) == ITEM_LISTS_STATEMENTS
    assert await statements_of(client, NODE, {"id": "TmV3czox"}) == NODE_STATEMENTS


async def test_pinned_counts_through_strawberry(seeded_db: TestDatabase) -> None:
    async with client_with(seeded_db, CMS_QUERY_COMPILER="off") as client:
        assert await statements_of(client, NEWS_LIST, {"first": 20}) == (
            NEWS_LIST_STRAWBERRY_STATEMENTS
        )
        assert await statements_of(client, NEWS_BY_TAG, {"first": 20}) == (
            NEWS_BY_TAG_STRAWBERRY_STATEMENTS
        )
        assert await statements_of(client, NEWS_ITEM, {"slug": NEWS_SLUG}) == (
            NEWS_ITEM_STRAWBERRY_STATEMENTS
        )
        deep = await statements_of(client, DEEP_AGREEMENT, {"slug": AGREEMENT_SLUG})
        if seeded_db.backend == "postgres":
            assert deep in DEEP_AGREEMENT_STRAWBERRY_STATEMENTS_POSTGRES
        else:
            assert deep == DEEP_AGREEMENT_STRAWBERRY_STATEMENTS


async def test_counts_do_not_grow_with_page_size(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    await generate_demo(150, seed=7)
    for first in (5, 100):
        result = await writer_client.data(NEWS_LIST, {"first": first})
        assert len(result["news"]["edges"]) == first
        assert await statements_of(writer_client, NEWS_LIST, {"first": first}) == (
            NEWS_LIST_STATEMENTS
        )
        assert await statements_of(writer_client, NEWS_BY_TAG, {"first": first}) == (
            NEWS_BY_TAG_STATEMENTS
        )


async def test_nested_connections_do_not_grow_with_the_number_of_parents(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    await generate_demo(60, seed=3)
    query = """
    query($first: Int) { tags(first: $first) { edges { node { name newsCount
      news(first: 3) { totalCount edges { node { slug tags { slug } } } } } } } }
    """
    few = await statements_of(writer_client, query, {"first": 2})
    many = await statements_of(writer_client, query, {"first": 40})
    # Compiled: one statement. On SQLite it nests deeper than SQLite's parser takes,
    # and Strawberry answers as below.
    assert few == many == (1 if db.backend == "postgres" else 6)
    async with client_with(db, CMS_QUERY_COMPILER="off") as strawberry:
        few = await statements_of(strawberry, query, {"first": 2})
        many = await statements_of(strawberry, query, {"first": 40})
    # tags page; counts; the window query and its rows; nested totals; tags of those news
    assert few == many == 6


async def test_deep_agreement_query_does_not_grow_with_breadth(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    variables = {"slug": AGREEMENT_SLUG}
    before = await statements_of(writer_client, DEEP_AGREEMENT, variables)
    agreement = await Agreement.get(slug=AGREEMENT_SLUG)
    amur = await Region.get(code="RU-AMU")
    altai = await Region.get(code="RU-ALT")
    enterprises = await Enterprise.all()
    for n in range(3):
        plan = await ActionPlan.create(
            slug=f"plan-{n}",
            title=f"План {n}",
            agreement=agreement,
            period_start=date(2026 + n, 1, 1),
            period_end=date(2026 + n, 12, 31),
            status=PublicationState.PUBLISHED,
            published_at=agreement.published_at,
        )
        for v in range(2):
            visit = await Visit.create(
                title=f"Визит {n}.{v}",
                delegation_region=amur,
                host_region=altai,
                starts_on=date(2026 + n, 3, 1 + v),
                ends_on=date(2026 + n, 3, 2 + v),
                action_plan=plan,
            )
            for position, enterprise in enumerate(enterprises[v::2]):
                await VisitEnterprise.create(visit=visit, enterprise=enterprise, position=position)
    data = await writer_client.data(DEEP_AGREEMENT, variables)
    assert len(data["agreement"]["actionPlans"]) == 4
    after = await statements_of(writer_client, DEEP_AGREEMENT, variables)
    assert before == after == DEEP_AGREEMENT_STATEMENTS


@pytest.mark.parametrize(
    "query",
    [
        "{ news(first: 1000) { totalCount } }",
        '{ news(after: "forged") { totalCount } }',
        '{ newsItem(id: "bm90LWEtdmFsaWQtaWQ") { id } }',
    ],
)
async def test_refused_arguments_cost_no_sql(client: GraphQLClient, query: str) -> None:
    with count_statements() as statements:
        errors = await client.errors(query)
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert statements == []
