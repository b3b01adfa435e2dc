"""Operation limits: hostile operations are refused before execution, with the limit,
its value and what was asked for, and no SQL is run; the cost of every operation is
reported; introspection and suggestions follow the environment and the caller."""

import json
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query

from cms.db import count_statements
from cms.settings import SettingsError, load_settings
from graphql_schema import limits
from tests.api.test_query_counts import DEEP_AGREEMENT
from tests.conftest import GraphQLClient, TestDatabase, client_with, login_as, use_api_token
from tests.seed_content import AGREEMENT_SLUG

GRAPHIQL_DOCUMENT = (Path(__file__).parents[2] / "web" / "graphiql_default.graphql").read_text(
    encoding="utf-8"
)

NESTED_LISTS = """
{ tags(first: 100) { edges { node { news(first: 100) { edges { node {
  tags { news(first: 100) { edges { node { tags { name } } } } } } } } } } } }
"""


IDENTIFICATION = re.compile(r'^(SELECT|UPDATE) .*"(auth_session|api_token)"')


def deep(levels: int) -> str:
    return "{ " + "a { " * (levels - 1) + "a" + " }" * levels


def aliases(count: int) -> str:
    return "{ " + " ".join(f"a{number}: __typename" for number in range(count)) + " }"


async def refused(client: GraphQLClient, query: str, variables: dict | None = None) -> dict:
    """The single error of an operation refused before execution; no SQL was run but
    the identification of a caller with a token."""
    with count_statements() as statements:
        result = await client.post(query, variables)
    assert [s for s in statements if not IDENTIFICATION.search(s)] == [], statements
    assert result.get("data") is None, result
    (error,) = result["errors"]
    return error


def assert_limit(error: dict[str, Any], limit: str, maximum: int, actual: int | None) -> None:
    extensions = error["extensions"]
    assert extensions["code"] == "LIMIT_EXCEEDED"
    assert extensions["limit"] == limit
    assert extensions["max"] == maximum
    assert str(maximum) in error["message"]
    if actual is not None:
        assert extensions["actual"] == actual
        assert str(actual) in error["message"]
    assert extensions["actual"] > maximum


# ---------------------------------------------------------------- hostile operations, defaults


async def test_too_large_text_is_refused_before_parsing(client: GraphQLClient) -> None:
    query = "{ __typename }\n#" + "x" * 300_000
    error = await refused(client, query)
    assert_limit(error, "querySize", 262_144, len(query.encode()))
    assert "байт" in error["message"]


async def test_too_many_tokens(client: GraphQLClient) -> None:
    error = await refused(client, "{ " + "__typename " * 6000 + "}")
    assert_limit(error, "tokens", 5000, 6002)


async def test_a_thousand_fields_deep(client: GraphQLClient) -> None:
    # graphql-core stops parsing at 200 levels; the answer is still the depth limit.
    error = await refused(client, deep(1000))
    assert_limit(error, "depth", 15, 1000)


async def test_too_deep(client: GraphQLClient) -> None:
    error = await refused(client, deep(16))
    assert_limit(error, "depth", 15, 16)


async def test_ten_thousand_aliases(client: GraphQLClient, seeded_db: TestDatabase) -> None:
    # With the default token limit the text is refused first…
    assert_limit(await refused(client, aliases(10_000)), "tokens", 5000, None)
    # …and the alias limit holds on its own.
    async with client_with(seeded_db, CMS_MAX_TOKENS="100000") as roomy:
        assert_limit(await refused(roomy, aliases(10_000)), "aliases", 50, 10_000)
    assert_limit(await refused(client, aliases(51)), "aliases", 50, 51)
    assert "errors" not in await client.post(aliases(50))


async def test_too_many_directives(client: GraphQLClient) -> None:
    error = await refused(client, "{ " + "__typename @skip(if: false) " * 51 + "}")
    assert_limit(error, "directives", 50, 51)


async def test_too_many_fragments(client: GraphQLClient) -> None:
    error = await refused(client, "{ " + "... on Query { __typename } " * 101 + "}")
    assert_limit(error, "fragments", 100, 101)
    named = "query { ...F " + "...F " * 100 + "} fragment F on Query { __typename }"
    assert_limit(await refused(client, named), "fragments", 100, 102)


async def test_expensive_nested_lists(client: GraphQLClient) -> None:
    error = await refused(client, NESTED_LISTS)
    assert_limit(error, "cost", 10_000, None)
    assert "first/last" in error["message"]


async def test_cost_follows_variables(client: GraphQLClient) -> None:
    query = """query($first: Int, $inner: Int = 100) { tags(first: $first) { edges { node {
      news(first: $inner) { edges { node { tags { news(first: $inner) { edges { node {
      tags { name } } } } } } } } } } } }"""
    assert_limit(await refused(client, query, {"first": 100}), "cost", 10_000, None)
    result = await client.post(query, {"first": 1, "inner": 1})
    assert "errors" not in result, result
    # The connection (a tag's news: a reverse relation, weighed), one edge, its node
    # and its tags (a plain list: CMS_COST_LIST_SIZE).
    reverse = limits.WEIGHTS[("Tag", "news")]
    inner_news = 1 + reverse + 1 * (1 + 1 + 10)
    outer_news = 1 + reverse + 1 * (1 + 1 + 10 * (1 + inner_news))
    assert result["extensions"]["cost"]["requested"] == 1 + 1 * (1 + 1 + outer_news)


async def test_limits_come_from_settings(seeded_db: TestDatabase) -> None:
    async with client_with(
        seeded_db, CMS_MAX_DEPTH="4", CMS_MAX_COST="10", CMS_MAX_QUERY_BYTES="2000"
    ) as strict:
        assert_limit(await refused(strict, deep(5)), "depth", 4, 5)
        query = "{ news(first: 5) { edges { node { title } } } }"
        assert_limit(await refused(strict, query), "cost", 10, 11)
        assert_limit(await refused(strict, "{ __typename }" + " " * 2000), "querySize", 2000, 2014)


async def test_a_batch_is_refused(client: GraphQLClient) -> None:
    batch = [{"query": "{ news { totalCount } }"}] * 1000
    with count_statements() as statements:
        response = await client.http.post("/graphql", json=batch)
    assert statements == []
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BATCHING_NOT_SUPPORTED"
    assert "1000" in error["message"]


# ---------------------------------------------------------------- what passes, and its cost


async def test_cost_is_reported_to_every_caller(writer_client: GraphQLClient) -> None:
    query = "{ news(first: 5) { edges { node { title tags { name } } } } }"
    expected = {"requested": 1 + 5 * (1 + 1 + 10), "limit": 10_000}
    assert (await writer_client.post(query))["extensions"]["cost"] == expected
    await use_api_token(writer_client, "read")
    assert (await writer_client.post(query))["extensions"]["cost"] == expected
    await login_as(writer_client, "editor")
    assert (await writer_client.post(query))["extensions"]["cost"] == expected


async def test_the_graphiql_examples_and_the_deep_query_pass(client: GraphQLClient) -> None:
    for name in (
        "LatestNews",
        "NewsByTag",
        "OneNewsItem",
        "AgreementWithPlanAndVisits",
        "EnterprisesOnTheMap",
    ):
        response = await client.http.post(
            "/graphql", json={"query": GRAPHIQL_DOCUMENT, "operationName": name}
        )
        result = response.json()
        assert "errors" not in result, (name, result)
        assert result["extensions"]["cost"]["requested"] < 10_000
    result = await client.post(DEEP_AGREEMENT, {"slug": AGREEMENT_SLUG})
    assert "errors" not in result
    assert result["data"]["agreement"]["actionPlans"][0]["visits"][0]["enterprises"]
    assert result["extensions"]["cost"]["requested"] < 3_000


# ---------------------------------------------------------------- introspection


INTROSPECTION = get_introspection_query(descriptions=True, input_value_deprecation=True)


async def test_introspection_in_development(client: GraphQLClient) -> None:
    result = await client.post(INTROSPECTION)
    assert "errors" not in result
    assert result["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_introspection_in_production(db: TestDatabase) -> None:
    async with client_with(db, CMS_ENV="production") as anonymous:
        error = await refused(anonymous, INTROSPECTION)
        assert error["extensions"]["code"] == "INTROSPECTION_DISABLED"
        error = await refused(anonymous, '{ __type(name: "News") { name } }')
        assert error["extensions"]["code"] == "INTROSPECTION_DISABLED"
        assert (await anonymous.data("{ __typename }")) == {"__typename": "Query"}
    async with client_with(db, CMS_ENV="production") as staff:
        await login_as(staff, "viewer")
        assert "errors" not in await staff.post(INTROSPECTION)
    async with client_with(db, CMS_ENV="production") as integrator:
        await use_api_token(integrator, "read")
        assert "errors" not in await integrator.post(INTROSPECTION)


async def test_introspection_switched_on_and_off(db: TestDatabase) -> None:
    async with client_with(db, CMS_INTROSPECTION="off") as closed:
        await login_as(closed, "admin")
        error = await refused(closed, INTROSPECTION)
        assert error["extensions"]["code"] == "INTROSPECTION_DISABLED"
    async with client_with(db, CMS_ENV="production", CMS_INTROSPECTION="on") as opened:
        assert "errors" not in await opened.post(INTROSPECTION)


async def test_introspection_is_never_cached(db: TestDatabase) -> None:
    """A read token may introspect and shares the public cache with anonymous callers:
    its answer must not reach them, from the response cache or from an HTTP cache."""
    async with client_with(db, CMS_ENV="production", CMS_RESPONSE_CACHE="on") as app:
        token = await use_api_token(app, "read")
        params = {"query": INTROSPECTION}
        for _ in range(2):  # the second time would be a cache hit
            answer = await app.http.get(
                "/graphql", params=params, headers={"authorization": f"Bearer {token}"}
            )
            assert answer.status_code == 200
            assert answer.json()["data"]["__schema"]["queryType"]["name"] == "Query"
            assert answer.headers["cache-control"] == "private, no-store"
        anonymous = await app.http.get("/graphql", params=params)
        assert "__schema" not in anonymous.text
        (error,) = anonymous.json()["errors"]
        assert error["extensions"]["code"] == "INTROSPECTION_DISABLED"
        assert anonymous.headers["cache-control"] == "private, no-store"
    async with client_with(db, CMS_RESPONSE_CACHE="on") as development:
        # Anonymous introspection is allowed here, still never kept by a shared cache.
        answer = await development.http.get("/graphql", params={"query": INTROSPECTION})
        assert answer.json()["data"]["__schema"]["queryType"]["name"] == "Query"
        assert answer.headers["cache-control"] == "private, no-store"
        assert "etag" not in answer.headers


async def test_introspection_cannot_nest_without_bound(client: GraphQLClient) -> None:
    query = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    result = await client.post(query)
    assert result.get("data") is None
    assert "introspection" in result["errors"][0]["message"].lower()


# ---------------------------------------------------------------- suggestions and errors


MISTYPED = "{ news { edges { node { titel } } } }"
BAD_ENUM = "query($order: NewsOrder!) { news(orderBy: $order) { totalCount } }"


async def test_suggestions_in_development(client: GraphQLClient) -> None:
    (error,) = await client.errors(MISTYPED)
    assert "Did you mean 'title'" in error["message"]
    (error,) = await client.errors(BAD_ENUM, {"order": "PUBLISHED_AT_DES"})
    assert "Did you mean" in error["message"]


async def test_no_suggestions_in_production(seeded_db: TestDatabase) -> None:
    async with client_with(seeded_db, CMS_ENV="production") as production:
        (error,) = await production.errors(MISTYPED)
        assert "titel" in error["message"]
        assert "Did you mean" not in error["message"]
        assert "title'" not in error["message"]
        (error,) = await production.errors(BAD_ENUM, {"order": "PUBLISHED_AT_DES"})
        assert "PUBLISHED_AT_DES" in error["message"]
        assert "Did you mean" not in error["message"]
        assert "PUBLISHED_AT_DESC" not in error["message"]


async def test_a_failing_extension_is_masked(
    seeded_db: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:

    def broken(*args: object) -> None:
        raise RuntimeError("secret internal detail at /srv/cms")

    monkeypatch.setattr(limits, "count", broken)
    # A text sent nowhere else (the differential test sends the documents written in
    # the tests): the counts of a text are kept once made.
    query = f"{{ __typename }} # {uuid.uuid4()}"
    async with client_with(seeded_db, CMS_ENV="production") as production:
        response = await production.http.post("/graphql", json={"query": query})
    assert response.status_code == 200
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["extensions"]["errorId"] in error["message"]


# ---------------------------------------------------------------- settings


def test_limit_settings() -> None:
    base = {"CMS_SECRET_KEY": "x", "CMS_DATABASE_URL": "sqlite://:memory:"}
    settings = load_settings(base)
    assert (
        settings.max_query_bytes,
        settings.max_tokens,
        settings.max_depth,
        settings.max_aliases,
        settings.max_directives,
        settings.max_fragments,
        settings.max_cost,
        settings.introspection,
    ) == (262_144, 5000, 15, 50, 50, 100, 10_000, "auto")
    custom = load_settings({**base, "CMS_MAX_DEPTH": "8", "CMS_INTROSPECTION": "OFF"})
    assert (custom.max_depth, custom.introspection) == (8, "off")
    for name, value in [
        ("CMS_MAX_DEPTH", "deep"),
        ("CMS_MAX_COST", "0"),
        ("CMS_INTROSPECTION", "sometimes"),
    ]:
        with pytest.raises(SettingsError, match=name):
            load_settings({**base, name: value})


async def test_refusals_are_json(client: GraphQLClient) -> None:
    response = await client.http.post("/graphql", json={"query": deep(20)})
    assert response.headers["content-type"].startswith("application/json")
    assert json.loads(response.text)["errors"][0]["extensions"]["limit"] == "depth"
    assert isinstance(response, httpx.Response)


async def test_plain_lists_count_at_their_expected_length(seeded_db: TestDatabase) -> None:
    query = "{ news(first: 5) { edges { node { title tags { name } } } } }"
    async with client_with(seeded_db, CMS_COST_LIST_SIZE="2") as short_lists:
        result = await short_lists.post(query)
    assert result["extensions"]["cost"]["requested"] == 1 + 5 * (1 + 1 + 2)
    assert "errors" not in result
