"""Bad arguments give clear GraphQL errors, never a 500 or a stack trace."""

import pytest

from tests.conftest import GraphQLClient
from tests.seed_content import NEWS_SLUG


@pytest.mark.parametrize(
    ("query", "argument", "words"),
    [
        ("{ news(first: 1000) { totalCount } }", "first", "100"),
        ("{ news(last: 101) { totalCount } }", "last", "100"),
        ("{ news(first: -1) { totalCount } }", "first", "отрицательным"),
        ('{ news(after: "not-a-cursor") { totalCount } }', "after", "Курсор"),
        ('{ news(before: "WyJ4Il0") { totalCount } }', "before", "Курсор"),
        ('{ tags(after: "WyJ0YWc6bmFtZSIsMSwiMiJd") { totalCount } }', "after", "Курсор"),
        ('{ newsItem(id: "%%%") { id } }', "id", "идентификатор"),
        ('{ newsItem(id: "VGFnOjE=") { id } }', "id", "Tag"),
        ('{ node(id: "Rm9vOjE=") { id } }', "id", "Foo"),
        ("{ newsItem { id } }", "id", "id или slug"),
        ('{ newsItem(id: "TmV3czox", slug: "x") { id } }', "id", "id или slug"),
        ('{ actionPlans(agreement: "TmV3czox") { totalCount } }', "agreement", "Agreement"),
        ('{ news(filter: {search: "' + "я" * 201 + '"}) { totalCount } }', "filter.search", "200"),
        (
            '{ newsItem(slug: "' + NEWS_SLUG + '") { body { excerpt(length: -5) } } }',
            "length",
            "length",
        ),
    ],
)
async def test_bad_arguments_are_named_in_a_clear_error(
    client: GraphQLClient, query: str, argument: str, words: str
) -> None:
    result = await client.post(query)
    (error,) = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["argument"] == argument
    assert words in error["message"]
    assert "Traceback" not in error["message"]


@pytest.mark.parametrize(
    "query",
    [
        "{ news(orderBy: NEWEST) { totalCount } }",
        "{ news(filter: {status: DELETED}) { totalCount } }",
        '{ news(first: "ten") { totalCount } }',
        "{ news { nonsense } }",
        "{ news(",
    ],
)
async def test_schema_violations_are_refused_before_execution(
    client: GraphQLClient, query: str
) -> None:
    result = await client.post(query)
    assert result.get("data") is None
    assert result["errors"][0]["message"]
    assert "Traceback" not in str(result)


async def test_unknown_enum_in_variables(client: GraphQLClient) -> None:
    result = await client.post(
        "query($o: NewsOrder) { news(orderBy: $o) { totalCount } }", {"o": "RANDOM"}
    )
    assert "RANDOM" in result["errors"][0]["message"]


async def test_mutations_are_refused_over_get(client: GraphQLClient) -> None:
    response = await client.http.get("/graphql", params={"query": "mutation { __typename }"})
    assert response.status_code in (400, 405)
    assert "Traceback" not in response.text


async def test_unsupported_bodies_are_4xx(client: GraphQLClient) -> None:
    for content_type, body in [
        ("application/json", b"{not json"),
        ("text/plain", b'{"query": "{ news { totalCount } }"}'),
        ("application/x-www-form-urlencoded", b"query=%7B__typename%7D"),
    ]:
        response = await client.http.post(
            "/graphql", content=body, headers={"content-type": content_type}
        )
        assert 400 <= response.status_code < 500, content_type
