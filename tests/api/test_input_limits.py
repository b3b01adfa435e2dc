"""Over-long and out-of-range input never crashes a request: lookups that cannot match
answer null or an empty list, mutations answer a UserError, and a malformed argument
(an id, a cursor, a moment) is refused with a clear error; the limits are the columns'.
Run on SQLite and on PostgreSQL."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from cms.models import News, Region, Tag
from cms.services import columns
from tests.conftest import GraphQLClient, TestDatabase
from tests.editing.helpers import CREATE_NEWS, PUBLISH_NEWS, create_news, mutate, sign_in
from tests.seed_content import NEWS_SLUG

LONG_REGION = "RU-" + "X" * columns.max_length(Region, "code")  # type: ignore[operator]
LONG_TAG = "t" * (columns.max_length(Tag, "slug") + 1)  # type: ignore[operator]
LONG_NEWS = "n" * (columns.max_length(News, "slug") + 1)  # type: ignore[operator]
FAR_FUTURE = "9999-12-31T23:59:59-14:00"


def _cursor(*values: Any) -> str:
    raw = json.dumps(list(values), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _no_internal_error(result: dict[str, Any]) -> None:
    codes = [error["extensions"]["code"] for error in result.get("errors", [])]
    assert "INTERNAL_SERVER_ERROR" not in codes, result


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ news(filter: {region: $v}) { totalCount } }", {"news": {"totalCount": 0}}),
        (
            "{ enterprises(filter: {region: $v}) { totalCount } }",
            {"enterprises": {"totalCount": 0}},
        ),
        ("{ agreements(filter: {region: $v}) { totalCount } }", {"agreements": {"totalCount": 0}}),
    ],
)
async def test_an_over_long_region_code_matches_nothing(
    client: GraphQLClient, query: str, expected: dict[str, Any]
) -> None:
    document = "query($v: String!) " + query
    result = await client.post(document, {"v": LONG_REGION})
    _no_internal_error(result)
    assert result == {"data": expected, **{k: v for k, v in result.items() if k != "data"}}


@pytest.mark.parametrize(
    ("query", "value"),
    [
        ("{ tag(slug: $v) { id } }", LONG_TAG),
        ("{ newsItem(slug: $v) { id } }", LONG_NEWS),
        ("{ agreement(slug: $v) { id } }", LONG_NEWS * 2),
        ("{ enterprise(slug: $v) { id } }", LONG_NEWS * 2),
    ],
)
async def test_an_over_long_slug_finds_nothing(
    client: GraphQLClient, query: str, value: str
) -> None:
    result = await client.post("query($v: String!) " + query, {"v": value})
    _no_internal_error(result)
    assert list(result["data"].values()) == [None]


async def test_an_over_long_tag_in_a_news_filter_lists_nothing(client: GraphQLClient) -> None:
    data = await client.data(
        "query($v: String!) { a: news(filter: {tag: $v}) { totalCount edges { node { id } } } "
        "b: news(filter: {tags: [$v]}) { totalCount } }",
        {"v": LONG_TAG},
    )
    assert data == {"a": {"totalCount": 0, "edges": []}, "b": {"totalCount": 0}}


async def test_a_cursor_beyond_the_id_column_is_refused(client: GraphQLClient) -> None:
    first = await client.data("{ news(first: 1) { edges { cursor } } }")
    (edge,) = first["news"]["edges"]
    values = json.loads(base64.urlsafe_b64decode(edge["cursor"] + "=" * 4))
    values[-1] = 2**31
    result = await client.post(
        "query($c: String!) { news(first: 1, after: $c) { totalCount } }",
        {"c": _cursor(*values)},
    )
    (error,) = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "after" in error["message"]


async def test_a_moment_with_no_utc_form_is_bad_input(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    errors = await writer_client.errors(
        "query($d: DateTime!) { news(filter: {publishedAfter: $d}) { totalCount } }",
        {"d": FAR_FUTURE},
    )
    # Refused while the variables are read, like any invalid variable: no code, no crash.
    assert "по UTC" in errors[0]["message"]
    await sign_in(writer_client, "editor")
    news = await create_news(writer_client, title="Очень далёкое будущее")
    errors = await writer_client.errors(PUBLISH_NEWS, {"id": news["id"], "at": FAR_FUTURE})
    assert "по UTC" in errors[0]["message"]
    assert (await News.get(title="Очень далёкое будущее")).status == "draft"
    # The last moment that has one is fine.
    latest = await mutate(
        writer_client, PUBLISH_NEWS, {"id": news["id"], "at": "9999-12-31T23:59:59Z"}
    )
    assert latest["errors"] == []


async def test_an_over_long_mutation_id_is_bad_input(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    await sign_in(writer_client, "editor")
    result = await writer_client.post(
        "mutation($id: ID!) { deleteNews(id: $id) { deletedId } }", {"id": "A" * 121}
    )
    (error,) = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert await News.filter(slug=NEWS_SLUG).exists()


async def test_an_over_long_region_code_in_a_mutation_is_a_user_error(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    await sign_in(writer_client, "editor")
    payload = await mutate(
        writer_client, CREATE_NEWS, {"input": {"title": "Новость", "regions": [LONG_REGION]}}
    )
    assert payload["news"] is None
    assert [(error["field"], error["code"]) for error in payload["errors"]] == [
        (["input", "regions", "0"], "NOT_FOUND")
    ]
