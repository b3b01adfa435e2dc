"""Two uvicorn processes sharing one database and one Redis: a change made through
one reaches the subscribers of both, each once; an item going live too."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from redis.asyncio import Redis

from tests.conftest import TestDatabase
from tests.editing.helpers import PUBLISH_NEWS, create_news, mutate, sign_in
from tests.subscriptions.conftest import CONTENT_CHANGED, live_client, running_server, subscribed


async def both_listen(redis_url: str, channel: str) -> None:
    """Both processes read the channel (they subscribe in the background at start)."""
    redis = Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + 20
        while True:
            ((_, count),) = await redis.pubsub_numsub(channel)
            if count >= 2:
                return
            assert time.monotonic() < deadline, f"{count} processes read {channel}"
            await asyncio.sleep(0.1)
    finally:
        await redis.aclose()


async def test_an_event_reaches_the_subscribers_of_every_process(
    redis_url: str, db: TestDatabase, tmp_path: Path
) -> None:
    # A prefix of this run's own: the Redis is shared with other runs.
    prefix = f"cms-test-{uuid.uuid4().hex[:12]}"
    environ = {"CMS_REDIS_URL": redis_url, "CMS_REDIS_PREFIX": prefix}
    async with (
        running_server(db, tmp_path / "a.log", **environ) as (first, editor),
        running_server(db, tmp_path / "b.log", **environ) as (second, _),
    ):
        await both_listen(redis_url, f"{prefix}:live")
        await sign_in(editor, "editor")
        draft = await create_news(editor, title="Новость для двух процессов")
        async with live_client(first) as on_first, live_client(second) as on_second:
            first_op = await on_first.subscribe(CONTENT_CHANGED, {"kinds": ["NEWS"]})
            second_op = await on_second.subscribe(CONTENT_CHANGED, {"kinds": ["NEWS"]})
            # The change is made through the first process only.
            await subscribed(editor, (on_first, first_op), (on_second, second_op))

            assert (await mutate(editor, PUBLISH_NEWS, {"id": draft["id"]}))["errors"] == []
            for client, op in ((on_first, first_op), (on_second, second_op)):
                event = (await client.event(op))["contentChanged"]
                assert (event["action"], event["id"]) == ("PUBLISHED", draft["id"])
                assert event["item"]["title"] == "Новость для двух процессов"

            # Going live: each process tells its own subscribers, so each hears it once.
            later = await create_news(editor, title="Запланировано для двух")
            at = datetime.now(UTC) + timedelta(seconds=3)
            scheduled = await mutate(
                editor, PUBLISH_NEWS, {"id": later["id"], "at": at.isoformat()}
            )
            assert scheduled["errors"] == []
            for client, op in ((on_first, first_op), (on_second, second_op)):
                event = (await client.event(op))["contentChanged"]
                assert datetime.now(UTC) >= at
                assert (event["action"], event["id"]) == ("PUBLISHED", later["id"])
            await on_first.nothing_more(first_op)
            await on_second.nothing_more(second_op, 0.2)
