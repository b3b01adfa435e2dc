"""What each subscriber hears, over a real uvicorn process and a real WebSocket client:
the public never a draft, staff (a token in connection_init) drafts too, a scheduled
item at its time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cms.models import News
from graphql_schema.relay import global_id
from tests.conftest import TestDatabase
from tests.editing.helpers import PUBLISH_NEWS, UPDATE_NEWS, create_news, mutate, sign_in
from tests.seed_content import NEWS_SLUG
from tests.subscriptions.conftest import (
    CONTENT_CHANGED,
    NEWS_ITEM_CHANGED,
    bearer,
    live_client,
    running_server,
    subscribed,
)

UNPUBLISH = "mutation($id: ID!) { unpublishNews(id: $id) { errors { code } } }"
DELETE = "mutation($id: ID!) { deleteNews(id: $id) { errors { code } } }"
SECRET = "Черновик: секретные переговоры"
ITEM_CHANGED = """
subscription($id: ID!) { itemChanged(id: $id) { action kind id item { ... on News { title } } } }
"""


async def test_public_subscriber_never_receives_a_draft(db: TestDatabase, tmp_path: Path) -> None:
    async with running_server(db, tmp_path / "server.log") as (base, editor):
        await sign_in(editor, "editor")
        async with (
            live_client(base) as public,
            live_client(base, bearer(editor)) as staff,
        ):
            public_op = await public.subscribe(CONTENT_CHANGED, {"kinds": ["NEWS"]})
            staff_op = await staff.subscribe(CONTENT_CHANGED, {"kinds": ["NEWS"]})
            await subscribed(editor, (public, public_op), (staff, staff_op))

            draft = await create_news(editor, title=SECRET)
            created = (await staff.event(staff_op))["contentChanged"]
            assert created["action"] == "CREATED"
            assert created["kind"] == "NEWS"
            assert created["item"] == {
                "id": draft["id"],
                "title": SECRET,
                "status": "DRAFT",
                "publishedAt": None,
            }
            await mutate(
                editor,
                UPDATE_NEWS,
                {"id": draft["id"], "input": {"lead": "Ещё секретнее"}, "rev": draft["revision"]},
            )
            assert (await staff.event(staff_op))["contentChanged"]["action"] == "UPDATED"

            published = await mutate(editor, PUBLISH_NEWS, {"id": draft["id"]})
            assert published["errors"] == []
            for client, op in ((public, public_op), (staff, staff_op)):
                event = (await client.event(op))["contentChanged"]
                assert event["action"] == "PUBLISHED"
                assert event["item"]["status"] == "PUBLISHED"

            # Unpublished: a removal for the public, without content; staff see the draft.
            assert (await mutate(editor, UNPUBLISH, {"id": draft["id"]}))["errors"] == []
            removed = (await public.event(public_op))["contentChanged"]
            assert removed == {
                "action": "REMOVED",
                "kind": "NEWS",
                "id": draft["id"],
                "item": None,
            }
            unpublished = (await staff.event(staff_op))["contentChanged"]
            assert unpublished["action"] == "UNPUBLISHED"
            assert unpublished["item"]["status"] == "DRAFT"

            # Trashing a draft: staff hear of it, the public (who never saw it) do not.
            assert (await mutate(editor, DELETE, {"id": draft["id"]}))["errors"] == []
            deleted = (await staff.event(staff_op))["contentChanged"]
            assert (deleted["action"], deleted["item"]) == ("DELETED", None)
            await public.nothing_more(public_op)


async def test_news_item_changed_follows_one_item(db: TestDatabase, tmp_path: Path) -> None:
    async with running_server(db, tmp_path / "server.log") as (base, editor):
        await sign_in(editor, "editor")
        seed = await News.get(slug=NEWS_SLUG)
        seed_id = global_id("News", seed.pk)
        other = await create_news(editor, title="Другая новость")
        async with live_client(base) as public:
            op = await public.subscribe(NEWS_ITEM_CHANGED, {"id": seed_id})
            any_kind = await public.subscribe(ITEM_CHANGED, {"id": seed_id})
            await subscribed(editor, (public, op), (public, any_kind))
            seed = await News.get(pk=seed.pk)
            # A change to another item is not this subscription's; one to it is.
            await mutate(editor, PUBLISH_NEWS, {"id": other["id"]})
            await mutate(
                editor,
                UPDATE_NEWS,
                {"id": seed_id, "input": {"title": "Новый заголовок"}, "rev": seed.revision},
            )
            event = (await public.event(op))["newsItemChanged"]
            assert event == {
                "action": "UPDATED",
                "id": seed_id,
                "news": {"title": "Новый заголовок", "status": "PUBLISHED"},
            }
            assert (await public.event(any_kind))["itemChanged"] == {
                "action": "UPDATED",
                "kind": "NEWS",
                "id": seed_id,
                "item": {"title": "Новый заголовок"},
            }
            await public.nothing_more(op, 0.5)
            await public.nothing_more(any_kind, 0.1)


async def test_a_scheduled_item_reaches_the_public_when_it_goes_live(
    db: TestDatabase, tmp_path: Path
) -> None:
    async with running_server(db, tmp_path / "server.log") as (base, editor):
        await sign_in(editor, "editor")
        draft = await create_news(editor, title="Запланированная новость")
        async with (
            live_client(base) as public,
            live_client(base, bearer(editor)) as staff,
        ):
            public_op = await public.subscribe(CONTENT_CHANGED, {"kinds": ["NEWS"]})
            staff_op = await staff.subscribe(CONTENT_CHANGED, {"kinds": ["NEWS"]})
            await subscribed(editor, (public, public_op), (staff, staff_op))
            at = datetime.now(UTC) + timedelta(seconds=3)
            scheduled = await mutate(
                editor, PUBLISH_NEWS, {"id": draft["id"], "at": at.isoformat()}
            )
            assert scheduled["errors"] == []
            # Staff hear of the scheduling at once; the public nothing until the time.
            at_once = (await staff.event(staff_op))["contentChanged"]
            assert at_once["action"] == "PUBLISHED"
            assert at_once["item"]["id"] == draft["id"]
            live = (await public.event(public_op))["contentChanged"]
            heard = datetime.now(UTC)
            assert heard >= at
            assert live["action"] == "PUBLISHED"
            assert live["item"]["id"] == draft["id"]
            assert live["item"]["title"] == "Запланированная новость"
            # Staff hear it go live too, once.
            went_live = (await staff.event(staff_op))["contentChanged"]
            assert (went_live["action"], went_live["id"]) == ("PUBLISHED", draft["id"])
            await public.nothing_more(public_op)
            await staff.nothing_more(staff_op, 0.2)
