"""The cost model and the bounds on what one answer may weigh: rich text, reverse
relations, counts and search weigh more than plain fields; every example, bench query
and realistic page fits the default limit with room to spare while the documents an
outside test used to get 40 MB answers are refused; the size of an answer is capped;
expensive operations run a few at a time per process."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLObjectType,
    OperationDefinitionNode,
    get_named_type,
    parse,
    validate,
)
from graphql.error import GraphQLSyntaxError

from cms.runtime import Runtime
from cms.settings import load_settings
from graphql_schema import limits
from graphql_schema.schema import schema
from tests.api.test_limits import NESTED_LISTS, assert_limit, refused
from tests.conftest import GraphQLClient, TestDatabase, client_with
from tests.seed_content import AGREEMENT_SLUG

ROOT = Path(__file__).parents[2]
SCHEMA = schema._schema
DEFAULTS = load_settings({"CMS_SECRET_KEY": "x", "CMS_DATABASE_URL": "sqlite://:memory:"})
# "With room to spare": a document may grow to this many times its cost.
HEADROOM = 3


def cost(document: str, variables: dict[str, Any] | None = None, name: str | None = None) -> int:
    """The cost under the default settings; variables left out count at their worst
    (a page size at the page cap)."""
    return limits.measure(
        SCHEMA,
        parse(document),
        name,
        variables,
        DEFAULTS.page_size_max,
        DEFAULTS.cost_list_size,
    ).cost


# ---------------------------------------------------------------- the documents


def graphiql_examples() -> list[tuple[str, str, str | None]]:
    text = (ROOT / "web" / "graphiql_default.graphql").read_text(encoding="utf-8")
    return [
        (f"graphiql:{op.name.value}", text, op.name.value)
        for op in parse(text).definitions
        if isinstance(op, OperationDefinitionNode) and op.name is not None
    ]


def bench_documents() -> list[tuple[str, str, str | None]]:
    """Every GraphQL document written in bench/*.py: each string constant that parses
    as one (found in the source, so a new bench query is covered without listing it)."""
    found = []
    for path in sorted((ROOT / "bench").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            if "{" not in node.value:
                continue
            try:
                document = parse(node.value)
            except GraphQLSyntaxError:
                continue
            if any(
                isinstance(definition, OperationDefinitionNode)
                and definition.selection_set.selections
                for definition in document.definitions
            ):  # not "{}" (an empty JSON object)
                found.append((f"{path.name}:{node.lineno}", node.value, None))
    return found


# Pages a portal front-end really asks for.
REALISTIC_PAGES = {
    "home": """query Home {
      latest: news(first: 10) { edges { node { title slug publishedAt url lead
        cover { url alt placeholder rendition(width: 640, height: 360) { url width height } }
        tags { name slug } } } }
      events(first: 5) { edges { node { title startsOn place } } }
      agreements(first: 5) { edges { node { title url inForceSince } } }
      tags(first: 20) { edges { node { name slug newsCount } } }
    }""",
    "news page": """query NewsPage($slug: String!) { newsItem(slug: $slug) {
      title lead publishedAt readingTimeMinutes url body { html text }
      cover { url alt caption credit rendition(width: 1280) { url width height } }
      tags { name slug news(first: 4) { edges { node { title url publishedAt } } } }
      regions { code name }
      quotes { text person { fullName position organization { name } photo { url } } }
      events { title startsOn place } agreements { title url }
      visit { title startsOn enterprises { name url } } } }""",
    "tag page": """query TagPage($slug: String!, $after: String) { tag(slug: $slug) {
      name newsCount news(first: 20, after: $after) { totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { title url publishedAt lead body { excerpt(length: 200) }
          cover { rendition(width: 480) { url } } } } } } }""",
    "search page": """query Search($q: String!) {
      news(first: 20, filter: {search: $q}) { totalCount
        edges { node { title url publishedAt body { excerpt(length: 200) } } } }
      agreements(first: 5, filter: {search: $q}) { totalCount edges { node { title url } } }
      enterprises(first: 5, filter: {search: $q}) { totalCount edges { node { name url } } }
    }""",
    "map page": """{ enterprises(first: 100) { totalCount edges { node { name url locality
      industries location { lat lon } logo { url } region { name } } } } }""",
    "agreement page": """query AgreementPage($slug: String!) { agreement(slug: $slug) {
      title number signedOn inForceSince validUntil agreementStatus summary body { html }
      documents { url fileName size } parties { name region { name } }
      actionPlans { title periodStart periodEnd directions { name } signatories { fullName }
        items { title itemStatus dueOn direction { name } event { title } }
        visits { title organizer { name } delegationRegion { name }
          enterprises { name locality industries location { lat lon } } }
        visitedEnterprises { name locality } }
      news(first: 5) { edges { node { title url publishedAt } } } } }""",
}
PAGE_VARIABLES = {"q": "сотрудничество", "slug": AGREEMENT_SLUG}

# What an outside test sent to get huge answers within the old limits.
NEWS_WITH_BODIES_AND_TAGS_NEWS = """{ edges { node { title body { html } tags { name
  news(first: 100) { edges { node { title body { html } } } } } } } }"""
HUGE = "{ news(first: 100) " + NEWS_WITH_BODIES_AND_TAGS_NEWS + " }"
THREE_HUGE = (
    "{ "
    + " ".join(f"a{n}: news(first: 100) {NEWS_WITH_BODIES_AND_TAGS_NEWS}" for n in range(3))
    + " }"
)
FIFTY_SEARCHES = (
    "{ "
    + " ".join(
        f'a{n}: news(first: 100, filter: {{search: "соглашение {n}"}}) '
        "{ edges { node { title } } }"
        for n in range(50)
    )
    + " }"
)
ABUSIVE = {
    "huge": HUGE,
    "three huge": THREE_HUGE,
    "fifty searches": FIFTY_SEARCHES,
    "nested lists": NESTED_LISTS,
    "four pages of bodies": "{ "
    + " ".join(
        f"a{n}: news(first: 100) {{ edges {{ node {{ body {{ html text }} }} }} }}"
        for n in range(4)
    )
    + " }",
}


def test_every_example_bench_query_and_page_fits_with_headroom() -> None:
    documents = [
        *graphiql_examples(),
        *bench_documents(),
        *((f"page:{name}", text, None) for name, text in REALISTIC_PAGES.items()),
    ]
    assert len(documents) >= 5 + 6 + len(REALISTIC_PAGES)
    costs = {}
    for label, text, name in documents:
        assert validate(SCHEMA, parse(text)) == [], label
        costs[label] = cost(text, PAGE_VARIABLES, name)
        assert costs[label] * HEADROOM <= DEFAULTS.max_cost, (label, costs[label])
    # Its three searches are counted (they are in a variable).
    assert costs["page:search page"] > 3 * limits.SEARCH_WEIGHT


@pytest.mark.parametrize("name", sorted(ABUSIVE))
def test_abusive_documents_cost_more_than_the_limit(name: str) -> None:
    assert validate(SCHEMA, parse(ABUSIVE[name])) == []
    assert cost(ABUSIVE[name]) > DEFAULTS.max_cost


async def test_abusive_documents_are_refused(client: GraphQLClient) -> None:
    for text in ABUSIVE.values():
        error = await refused(client, text)
        assert_limit(error, "cost", DEFAULTS.max_cost, cost(text))


def test_the_default_limits() -> None:
    assert DEFAULTS.max_cost == 10_000
    assert DEFAULTS.max_response_bytes == 5 * 1024 * 1024
    assert (DEFAULTS.expensive_cost, DEFAULTS.expensive_concurrency) == (5_000, 2)
    assert DEFAULTS.expensive_wait_ms == 2_000


# ---------------------------------------------------------------- the weights


def test_weighed_fields_cost_more_than_plain_ones() -> None:
    plain = cost("{ news(first: 10) { edges { node { title lead } } } }")
    assert plain == 1 + 10 * (1 + 1)
    body = cost("{ news(first: 10) { edges { node { title body { html } } } } }")
    assert body == plain + 10 * (1 + limits.WEIGHTS[("RichText", "html")])
    counted = cost("{ news(first: 10) { totalCount edges { node { title lead } } } }")
    assert counted == plain + limits.WEIGHTS[(limits.CONNECTIONS, "totalCount")]
    searched = cost('{ news(first: 10, filter: {search: "газ"}) { edges { node { title } } } }')
    assert searched == plain + limits.SEARCH_WEIGHT
    # An empty or absent search is no search; a variable counts by its value.
    assert cost('{ news(first: 10, filter: {search: ""}) { edges { node { title } } } }') == plain
    variable = "query($f: NewsFilter) { news(first: 10, filter: $f) { edges { node { title } } } }"
    assert cost(variable, {"f": {"search": "газ"}}) == searched
    assert cost(variable, {"f": {"tag": "gaz"}}) == plain
    assert cost('{ tags(first: 5, search: "газ") { edges { node { name } } } }') == (
        1 + 5 * 2 + limits.SEARCH_WEIGHT
    )
    # A reverse relation: a list query per parent, on top of its items.
    reverse = cost('{ tag(slug: "x") { news(first: 10) { edges { node { title } } } } }')
    assert reverse == 1 + 1 + limits.WEIGHTS[("Tag", "news")] + 10 * 2


def test_weights_name_real_fields_and_cover_every_reverse_relation() -> None:
    connections = {
        name
        for name, graphql_type in SCHEMA.type_map.items()
        if isinstance(graphql_type, GraphQLObjectType) and limits.is_connection(graphql_type)
    }
    for type_name, field_name in limits.WEIGHTS:
        owners = connections if type_name == limits.CONNECTIONS else {type_name}
        for owner in owners:
            graphql_type = SCHEMA.type_map[owner]
            assert isinstance(graphql_type, GraphQLObjectType)
            assert field_name in graphql_type.fields, (owner, field_name)
    roots = {SCHEMA.query_type, SCHEMA.mutation_type}
    for graphql_type in SCHEMA.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type in roots:
            continue
        if graphql_type.name.startswith("__") or graphql_type.name.endswith("Payload"):
            continue
        for field_name, field in graphql_type.fields.items():
            named = get_named_type(field.type)
            if isinstance(named, GraphQLObjectType) and limits.is_connection(named):
                assert (graphql_type.name, field_name) in limits.WEIGHTS, (
                    f"{graphql_type.name}.{field_name} is a reverse relation: weigh it"
                )


# ---------------------------------------------------------------- the size of an answer


BODIES = "{ news(first: 20) { edges { node { title body { html text } } } } }"


async def test_an_answer_over_the_size_limit_is_an_error(seeded_db: TestDatabase) -> None:
    async with client_with(
        seeded_db, CMS_MAX_RESPONSE_BYTES="2000", CMS_RESPONSE_CACHE="on"
    ) as small:
        whole = await small.http.post("/graphql", json={"query": "{ news { totalCount } }"})
        assert "errors" not in whole.json()
        for _ in range(2):  # the refusal is not kept by the response cache either
            response = await small.http.get("/graphql", params={"query": BODIES})
            assert response.status_code == 200
            assert len(response.content) < 2000
            assert response.headers["cache-control"] == "private, no-store"
            result = response.json()
            assert result["data"] is None
            (error,) = result["errors"]
            assert_limit(error, "responseSize", 2000, None)
            assert "байт" in error["message"]
            assert result["extensions"]["cost"]["requested"] == cost(BODIES)
    async with client_with(seeded_db) as roomy:
        response = await roomy.http.post("/graphql", json={"query": BODIES})
        assert "errors" not in response.json()
        assert len(response.content) > 2000


# ---------------------------------------------------------------- expensive operations


def runtime(client: GraphQLClient) -> Runtime:
    """The process-wide services of the app behind a client of client_with()."""
    transport = client.http._transport
    assert isinstance(transport, httpx.ASGITransport)
    return transport.app.state.runtime  # type: ignore[attr-defined]


EXPENSIVE = "{ news(first: 20) { edges { node { title body { html } } } } }"
CHEAP = "{ news(first: 2) { edges { node { title } } } }"


async def test_expensive_operations_wait_for_a_slot_then_are_refused(
    seeded_db: TestDatabase,
) -> None:
    async with client_with(
        seeded_db,
        CMS_EXPENSIVE_COST="100",
        CMS_EXPENSIVE_CONCURRENCY="1",
        CMS_EXPENSIVE_WAIT_MS="50",
    ) as app:
        gate = runtime(app).expensive_operations
        assert cost(EXPENSIVE) > 100 >= cost(CHEAP)
        async with gate.slot() as admitted:  # another expensive operation is running
            assert admitted
            response = await app.http.post("/graphql", json={"query": EXPENSIVE})
            assert response.status_code == 503
            assert response.headers["retry-after"] == "1"
            assert response.headers["cache-control"] == "private, no-store"
            (error,) = response.json()["errors"]
            assert_limit(error, "expensiveOperations", 1, 2)
            assert "100" in error["message"]
            # Cheap operations do not wait for expensive ones.
            assert "errors" not in await app.post(CHEAP)
        assert "errors" not in await app.post(EXPENSIVE)
        assert gate.running == 0


async def test_concurrent_expensive_operations_queue(seeded_db: TestDatabase) -> None:
    async with client_with(
        seeded_db,
        CMS_EXPENSIVE_COST="100",
        CMS_EXPENSIVE_CONCURRENCY="2",
        CMS_EXPENSIVE_WAIT_MS="10000",
    ) as app:
        gate = runtime(app).expensive_operations
        peak = 0
        done = asyncio.Event()

        async def watch() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, gate.running)
                await asyncio.sleep(0)

        watcher = asyncio.create_task(watch())
        results = await asyncio.gather(*(app.post(EXPENSIVE) for _ in range(8)))
        done.set()
        await watcher
        assert all("errors" not in result for result in results)
        assert peak == 2
        assert gate.running == 0
