"""The `search` root field and the lists' `filter.search` over HTTP, on the seed content."""

from __future__ import annotations

import json

import pytest

from cms import db as cms_db
from graphql_schema import limits
from tests.conftest import GraphQLClient, TestDatabase, client_with
from tests.editing.helpers import sign_in
from tests.seed_content import DRAFT_NEWS_SLUG, NEWS_SLUG

SEARCH = """
query ($query: String!, $kinds: [ContentKind!], $first: Int, $after: String) {
  search(query: $query, kinds: $kinds, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node {
      kind score highlights { field snippet }
      item { id ... on News { slug title } ... on Tag { name } ... on Enterprise { name }
             ... on Agreement { slug } }
    } }
  }
}
"""


async def _search(client: GraphQLClient, query: str, **variables: object) -> dict:
    data = await client.data(SEARCH, {"query": query, **variables})
    return data["search"]


def _kinds(result: dict) -> list[str]:
    return [edge["node"]["kind"] for edge in result["edges"]]


async def test_word_forms_find_news_agreement_and_tag(client: GraphQLClient) -> None:
    result = await _search(client, "сотрудничества")
    kinds = _kinds(result)
    assert {"NEWS", "AGREEMENT", "TAG"} <= set(kinds)
    assert result["totalCount"] == len(result["edges"])
    news = next(e["node"] for e in result["edges"] if e["node"]["kind"] == "NEWS")
    assert news["item"]["slug"] == NEWS_SLUG
    title = next(h for h in news["highlights"] if h["field"] == "title")
    assert "<mark>сотрудничества</mark>" in title["snippet"]
    bodies = [h["snippet"] for h in news["highlights"] if h["field"] == "bodyText"]
    assert bodies
    assert "<mark>сотрудничестве</mark>" in bodies[0]
    tag = next(e["node"] for e in result["edges"] if e["node"]["kind"] == "TAG")
    assert tag["highlights"] == [{"field": "name", "snippet": "<mark>сотрудничество</mark>"}]


@pytest.mark.parametrize(
    ("query", "kind", "text"),
    [
        ("предприятий Алтайского края", "NEWS", NEWS_SLUG),
        ("космодром", "ENTERPRISE", "Космодром «Восточный»"),
        ("косм", "ENTERPRISE", "Космодром «Восточный»"),
        ("КОСМОДРОМЕ", "ENTERPRISE", "Космодром «Восточный»"),
        ("сыроварня", "ENTERPRISE", "Сыроварня Агрипины"),
    ],
)
async def test_seed_queries(client: GraphQLClient, query: str, kind: str, text: str) -> None:
    result = await _search(client, query)
    assert result["edges"], query
    first = result["edges"][0]["node"]
    assert first["kind"] == kind
    assert text in json.dumps(first["item"], ensure_ascii=False)


async def test_kinds_and_pages(client: GraphQLClient) -> None:
    only_tags = await _search(client, "сотрудничества", kinds=["TAG"])
    assert set(_kinds(only_tags)) == {"TAG"}
    whole = await _search(client, "Алтайского края", first=50)
    assert whole["totalCount"] >= 3
    seen = []
    after = None
    while True:
        page = await _search(client, "Алтайского края", first=2, after=after)
        seen += [edge["node"]["item"]["id"] for edge in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [edge["node"]["item"]["id"] for edge in whole["edges"]]


async def test_no_draft_through_hits_counts_or_snippets(db: TestDatabase) -> None:
    from tests.conftest import client_with

    async with client_with(db) as client:
        # Words only in the draft news, agreement and plan, the scheduled and the
        # archived news.
        for query in ("черновик", "черновика", "подведут итоги", "Архив", "архивная"):
            result = await _search(client, query, first=50)
            assert result["totalCount"] == 0, query
            assert result["edges"] == [], query
        # The scheduled and archived news share words with the public one: only it.
        text = json.dumps(await _search(client, "Амурская область", first=50), ensure_ascii=False)
        assert "Запланировано" not in text
        assert "Архив" not in text
        await sign_in(client, "editor")
        result = await _search(client, "черновик", first=50)
        assert result["totalCount"] == 3
        slugs = [edge["node"]["item"].get("slug") for edge in result["edges"]]
        assert DRAFT_NEWS_SLUG in slugs


async def test_filter_search_uses_the_engine(client: GraphQLClient) -> None:
    data = await client.data(
        """{
          news(filter: {search: "сотрудничестве"}) { totalCount edges { node { slug } } }
          tags(search: "сотрудничества") { edges { node { name } } }
          agreements(filter: {search: "сотрудничества"}) { totalCount }
          enterprises(filter: {search: "космодрома восточного"}) { edges { node { name } } }
          draft: news(filter: {search: "черновик"}) { totalCount }
        }"""
    )
    assert data["news"]["totalCount"] == 1
    assert data["news"]["edges"][0]["node"]["slug"] == NEWS_SLUG
    assert [e["node"]["name"] for e in data["tags"]["edges"]] == ["сотрудничество"]
    assert data["agreements"]["totalCount"] == 1
    assert [e["node"]["name"] for e in data["enterprises"]["edges"]] == ["Космодром «Восточный»"]
    assert data["draft"]["totalCount"] == 0


@pytest.mark.parametrize(
    ("query", "argument"),
    [("", "query"), ("   ", "query"), ("а" * 201, "query"), ("космодром " * 1000, "query")],
)
async def test_empty_or_too_long_query(client: GraphQLClient, query: str, argument: str) -> None:
    errors = await client.errors(SEARCH, {"query": query})
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert errors[0]["extensions"].get("argument") == argument


async def test_filter_search_too_long(client: GraphQLClient) -> None:
    errors = await client.errors(
        "query ($s: String) { news(filter: {search: $s}) { totalCount } }", {"s": "я" * 201}
    )
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert errors[0]["extensions"]["argument"] == "filter.search"


@pytest.mark.parametrize(
    "query",
    ["'", '"', "*", "NEAR(", ":", "-", '"космодром', "космодром\"'", "a:*", "!(|&<->)", "\\'"],
)
async def test_injection_like_queries_answer_normally(client: GraphQLClient, query: str) -> None:
    result = await client.post(SEARCH, {"query": query})
    assert "errors" not in result, result
    filtered = await client.post(
        "query ($s: String) { news(filter: {search: $s}) { totalCount } }", {"s": query}
    )
    assert "errors" not in filtered, filtered


async def test_bad_arguments(client: GraphQLClient) -> None:
    errors = await client.errors(SEARCH, {"query": "косм", "after": "not-a-cursor"})
    assert errors[0]["extensions"]["argument"] == "after"
    errors = await client.errors(SEARCH, {"query": "косм", "first": 100000})
    assert errors[0]["extensions"]["code"] in ("BAD_USER_INPUT", "LIMIT_EXCEEDED")
    errors = await client.errors('{ search(query: "косм", snippetLength: 5) { totalCount } }')
    assert errors[0]["extensions"]["argument"] == "snippetLength"


async def test_a_search_costs_its_weight_and_few_statements(client: GraphQLClient) -> None:
    result = await client.post(SEARCH, {"query": "Алтайского края", "first": 10})
    assert result["extensions"]["cost"]["requested"] >= limits.SEARCH_WEIGHT
    with cms_db.count_statements() as statements:
        data = await client.data(SEARCH, {"query": "Алтайского края", "first": 10})
    kinds = set(_kinds(data["search"]))
    # The ranked page with its total, then one load per kind on it.
    assert len(statements) == 1 + len(kinds), statements


async def test_a_cached_search_names_its_items_and_lists(seeded_db: TestDatabase) -> None:
    query = (
        '{ search(query: "косм", kinds: [ENTERPRISE, NEWS]) { edges { node { item { id } } } } }'
    )
    async with client_with(seeded_db, CMS_SURROGATE_KEY_HEADERS="on") as client:
        response = await client.http.get("/graphql", params={"query": query})
    assert response.status_code == 200
    keys = response.headers["surrogate-key"].split()
    # The items shown, and the lists whose new items may join the hits.
    assert any(key.startswith("Enterprise:") for key in keys)
    assert {"enterprise-list", "news-list"} <= set(keys)
    assert "tag-list" not in keys
