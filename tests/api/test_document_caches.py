"""The parse and validation caches of OperationLimits never let a refused document
through: the same text is refused again, by every server's own limits."""

from __future__ import annotations

from tests.api.test_limits import assert_limit, client_with, deep, refused
from tests.conftest import GraphQLClient, TestDatabase


async def test_a_cached_document_is_validated_and_limited_every_time(
    client: GraphQLClient, seeded_db: TestDatabase
) -> None:
    invalid = "{ news(first: 2) { edges { node { noSuchField } } } }"
    for _ in range(3):
        errors = await client.errors(invalid)
        assert "noSuchField" in errors[0]["message"]
    query = "{ news(first: 5) { edges { node { title } } } }"
    for _ in range(2):
        data = await client.data(query)
        assert data["news"]["edges"]
    # The same texts, now under stricter limits: the cached parse and validation are
    # not a way around them.
    async with client_with(seeded_db, CMS_MAX_DEPTH="4", CMS_MAX_COST="10") as strict:
        for _ in range(2):
            assert_limit(await refused(strict, query), "cost", 10, 11)
            assert_limit(await refused(strict, deep(5)), "depth", 4, 5)
    for _ in range(2):
        assert_limit(await refused(client, deep(16)), "depth", 15, 16)
