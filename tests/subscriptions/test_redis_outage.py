"""Redis down: the API keeps answering, and the subscribers of the process that makes
a change still hear of it; the channel is read again once Redis is back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.conftest import GraphQLClient, TestDatabase
from tests.editing.helpers import sign_in
from tests.own_redis import own_redis
from tests.subscriptions.conftest import (
    SHALLOW,
    in_process_server,
    live_client,
    subscribed,
    until,
)


async def test_subscribers_hear_this_process_while_redis_is_down(
    db: TestDatabase, tmp_path: Path
) -> None:
    with own_redis(tmp_path) as redis:
        async with in_process_server(db, CMS_REDIS_URL=redis.url) as (base, app):
            broker = app.state.runtime.live
            await asyncio.wait_for(broker.connected.wait(), 20)
            async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                editor = GraphQLClient(http)
                await sign_in(editor, "editor")
                async with live_client(base) as client:
                    operation = await client.subscribe(SHALLOW)
                    await subscribed(editor, (client, operation))

                    redis.stop()
                    await until(lambda: not broker.connected.is_set(), "Redis seen down")
                    # The change is made (the API answers) and heard here, once.
                    await subscribed(editor, (client, operation))
                    await client.nothing_more(operation, 0.5)

                    redis.start()
                    await asyncio.wait_for(broker.connected.wait(), 20)
                    await subscribed(editor, (client, operation))
                    await client.nothing_more(operation, 0.5)
