"""Automatic persisted queries, spoken the way Apollo Client's persisted-queries link
speaks them (hash-only GET, retry with the text over POST, GET again with ETags)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest

from tests.api.cache_helpers import CachedApp, cached_app
from tests.conftest import TestDatabase

# As Apollo Client prints a document (graphql-js `print`): the hash is of this text.
QUERY = """query NewsList {
  news(first: 5) {
    totalCount
    edges {
      node {
        slug
      }
    }
  }
}"""
HASH = hashlib.sha256(QUERY.encode()).hexdigest()
NOT_FOUND = {
    "errors": [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ]
}


def apollo_get_url(query: str | None = None, sha: str = HASH) -> str:
    """What Apollo Client's HttpLink builds for a GET (rewriteURIForGET): each
    parameter JSON.stringify'd and encodeURIComponent'ed, in this order."""

    def component(value: str) -> str:
        return quote(value, safe="-_.!~*'()")

    def stringify(value: object) -> str:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    params = []
    if query is not None:
        params.append("query=" + component(query))
    params.append("operationName=" + component("NewsList"))
    params.append("variables=" + component(stringify({})))
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha}}
    params.append("extensions=" + component(stringify(extensions)))
    return "/graphql?" + "&".join(params)


def apollo_post_body(query: str | None) -> bytes:
    """The retry after PersistedQueryNotFound: the same extensions, with the text."""
    body: dict[str, object] = {
        "operationName": "NewsList",
        "variables": {},
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": HASH}},
    }
    if query is not None:
        body["query"] = query
    return json.dumps(body, separators=(",", ":")).encode()


APOLLO_HEADERS = {
    "accept": "application/graphql-response+json,application/json;q=0.9",
    "content-type": "application/json",
}


@pytest.fixture(params=["on", "off"], ids=["cache-on", "cache-off"])
async def app(request: pytest.FixtureRequest, db: TestDatabase) -> AsyncIterator[CachedApp]:
    async for cached in cached_app(
        db.url, CMS_RESPONSE_CACHE=request.param, CMS_SURROGATE_KEY_HEADERS="on"
    ):
        yield cached


async def test_apollo_flow_miss_register_hit_etag_304(app: CachedApp) -> None:
    miss = await app.http.get(apollo_get_url(), headers={"accept": APOLLO_HEADERS["accept"]})
    assert miss.status_code == 200
    assert miss.json() == NOT_FOUND
    assert miss.headers["cache-control"] == "private, no-store"

    registered = await app.http.post(
        "/graphql", content=apollo_post_body(QUERY), headers=APOLLO_HEADERS
    )
    assert registered.status_code == 200
    assert registered.json()["data"]["news"]["totalCount"] == 1

    hit = await app.http.get(apollo_get_url(), headers={"accept": APOLLO_HEADERS["accept"]})
    assert hit.status_code == 200
    assert hit.json() == registered.json()
    assert hit.headers["cache-control"].startswith("public, max-age=")
    assert "news-list" in hit.headers["surrogate-key"].split()
    etag = hit.headers["etag"]

    again = await app.http.get(
        apollo_get_url(), headers={"accept": APOLLO_HEADERS["accept"], "if-none-match": etag}
    )
    assert again.status_code == 304
    assert again.content == b""
    if app.response_cache.enabled:
        assert again.headers["x-sql-count"] == "0"  # the fast lane: no parsing, no SQL


async def test_a_hash_only_post_of_a_registered_query(app: CachedApp) -> None:
    await app.http.post("/graphql", content=apollo_post_body(QUERY), headers=APOLLO_HEADERS)
    response = await app.http.post(
        "/graphql", content=apollo_post_body(None), headers=APOLLO_HEADERS
    )
    assert response.json()["data"]["news"]["totalCount"] == 1


async def test_a_hash_that_is_not_the_texts_is_refused(app: CachedApp) -> None:
    body = json.loads(apollo_post_body(QUERY.replace("5", "6")))
    response = await app.http.post("/graphql", json=body)
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"
    # Nothing was registered under the hash.
    miss = await app.http.post("/graphql", content=apollo_post_body(None), headers=APOLLO_HEADERS)
    assert miss.json() == NOT_FOUND


async def test_a_get_with_text_and_hash(app: CachedApp) -> None:
    response = await app.http.get(apollo_get_url(QUERY))
    assert response.status_code == 200
    assert response.json()["data"]["news"]["totalCount"] == 1
    assert (await app.http.get(apollo_get_url())).json() == response.json()


async def test_bad_versions_and_hashes(app: CachedApp) -> None:
    for persisted in ({"version": 2, "sha256Hash": HASH}, {"version": 1, "sha256Hash": "a b"}):
        response = await app.http.post(
            "/graphql", json={"extensions": {"persistedQuery": persisted}}
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_graphiql_still_opens(app: CachedApp) -> None:
    page = await app.http.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


async def test_a_persisted_mutation_is_never_run_over_get(app: CachedApp) -> None:
    """A hash-only GET carries no text for the request gate to read: the mutation it
    names must still be refused, as a GET with the text is (CSRF: a GET needs no preflight)."""
    from cms.models import FeedbackMessage
    from tests.feedback.conftest import SUBMIT, form

    sha = hashlib.sha256(SUBMIT.encode()).hexdigest()
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": sha}}
    variables = {"input": form()}
    registered = await app.http.post(
        "/graphql", json={"query": SUBMIT, "variables": variables, "extensions": persisted}
    )
    assert registered.json()["data"]["submitFeedback"]["ticket"]
    stored = await FeedbackMessage.all().count()

    params = {
        "variables": json.dumps(variables, ensure_ascii=False),
        "extensions": json.dumps(persisted),
    }
    replayed = await app.http.get("/graphql", params=params)
    assert replayed.status_code == 405, replayed.text
    assert replayed.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert await FeedbackMessage.all().count() == stored
