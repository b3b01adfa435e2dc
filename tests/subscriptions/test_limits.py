"""What a connection may hold and send, refused with a reason the client can show."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cms.models import News
from cms.services.trusted_documents import Document, document_hash, register
from graphql_schema.relay import global_id
from tests.conftest import TestDatabase
from tests.editing.helpers import sign_in
from tests.seed_content import NEWS_SLUG
from tests.subscriptions.conftest import (
    CONTENT_CHANGED,
    NEWS_ITEM_CHANGED,
    SHALLOW,
    ClosedError,
    bearer,
    live_client,
    running_server,
    subscribed,
)

LIMITS = {
    "CMS_SUBSCRIPTION_MAX_PER_CONNECTION": "2",
    "CMS_SUBSCRIPTION_MAX_CONNECTIONS_PER_ADDRESS": "3",
    "CMS_SUBSCRIPTION_INIT_TIMEOUT": "1",
    "CMS_SUBSCRIPTION_KEEPALIVE": "0.3",
    "CMS_MAX_DEPTH": "4",
}
DEEP = """
subscription {
  contentChanged { item { ... on News { tags { news { edges { node { title } } } } } } }
}
"""


async def test_limits_refuse_with_clear_errors(db: TestDatabase, tmp_path: Path) -> None:
    async with running_server(db, tmp_path / "server.log", **LIMITS) as (base, editor):
        async with live_client(base) as client:
            # Subscriptions per connection: the third is refused, with the limit.
            first = await client.subscribe(SHALLOW)
            await client.subscribe(SHALLOW)
            third = await client.subscribe(SHALLOW)
            refused = await client.message(third)
            assert refused["type"] == "error"
            (error,) = refused["payload"]
            assert error["extensions"] == {
                "code": "LIMIT_EXCEEDED",
                "limit": "subscriptions",
                "max": 2,
                "actual": 3,
            }
            assert "Слишком много подписок" in error["message"]
            # A completed one frees its place.
            await client.complete(first)
            fourth = await client.subscribe(SHALLOW)
            await client.nothing_more(fourth, 0.5)

        async with live_client(base) as client:
            # The operation limits of queries: depth here.
            deep = await client.subscribe(DEEP)
            refused = await client.message(deep)
            assert refused["type"] == "error", refused
            (error,) = refused["payload"]
            assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
            assert error["extensions"]["limit"] == "depth"
            # Queries and mutations go over HTTP.
            query = await client.subscribe("{ news(first: 1) { totalCount } }")
            refused = await client.message(query)
            assert refused["type"] == "error", refused
            assert refused["payload"][0]["extensions"]["code"] == "BAD_REQUEST"
            assert "только подписки" in refused["payload"][0]["message"]
            # An ID of another type.
            seed = await News.get(slug=NEWS_SLUG)
            wrong = await client.subscribe(NEWS_ITEM_CHANGED, {"id": global_id("Tag", seed.pk)})
            answer = await client.message(wrong)
            assert answer["type"] == "next", answer
            assert answer["payload"]["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
            # Keep-alive: the server pings.
            await asyncio.sleep(1)
            assert client.pings >= 1

        # Connections per address: the fourth at once is closed with the reason.
        async with (
            live_client(base),
            live_client(base),
            live_client(base),
            live_client(base, init=False) as fourth,
        ):
            closed = await fourth.wait_closed()
            assert closed.code == 4429
            assert "Слишком много соединений" in closed.reason
        # Closed connections count no more.
        async with live_client(base) as again:
            await again.subscribe(SHALLOW)

        # No connection_init in time: closed (4408).
        async with live_client(base, init=False) as silent:
            closed = await silent.wait_closed()
            assert closed.code == 4408

        # A token that is not valid: closed (4403) with the reason.
        with pytest.raises(ClosedError) as refusal:
            async with live_client(base, {"Authorization": "Bearer not-a-token"}):
                pass
        assert refusal.value.code == 4403
        assert "Токен недействителен" in refusal.value.reason

        # A valid one is accepted, and checked again with each ping: logged out, the
        # connection is closed.
        await sign_in(editor, "editor")
        async with live_client(base, bearer(editor)) as staff:
            await staff.subscribe(CONTENT_CHANGED)
            await asyncio.sleep(1)
            assert staff.closed is None
            assert staff.pings >= 1
            assert (await editor.data("mutation { logout }"))["logout"] is True
            closed = await staff.wait_closed()
            assert closed.code == 4403
            assert "Токен недействителен" in closed.reason


async def test_trusted_documents_hold_for_subscriptions(db: TestDatabase, tmp_path: Path) -> None:
    registered = "subscription Registered { contentChanged { action id } }"
    await register([Document(document_hash(registered), registered, "Registered")])
    environ = {"CMS_TRUSTED_DOCUMENTS": "on"}
    async with running_server(db, tmp_path / "server.log", **environ) as (base, editor):
        await sign_in(editor, "editor")
        async with live_client(base) as public, live_client(base, bearer(editor)) as staff:
            refused = await public.message(await public.subscribe(SHALLOW))
            assert refused["type"] == "error", refused
            assert refused["payload"][0]["extensions"]["code"] == "OPERATION_NOT_TRUSTED"
            accepted = await public.subscribe(registered)
            # Staff run any document, as over HTTP.
            any_document = await staff.subscribe(SHALLOW)
            await subscribed(editor, (public, accepted), (staff, any_document))
