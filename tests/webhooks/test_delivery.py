"""Deliveries to a real receiver: signed as Standard Webhooks say (verified with the
`standardwebhooks` library, as a receiver would), retried, disabled, never sent for
a change that rolled back."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook
from tortoise.transactions import in_transaction

from cms.models import (
    News,
    Role,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from cms.services import editing
from cms.services.content_types import NEWS
from cms.services.editing import Changes
from cms.services.viewer import Viewer
from cms.services.visibility import now
from cms.services.webhooks import endpoints
from cms.services.webhooks.delivery import WebhookSender, prune
from cms.services.webhooks.events import EventType
from tests.conftest import GraphQLClient, TestDatabase
from tests.editing.helpers import PUBLISH_NEWS, create_news, mutate, sign_in
from tests.webhooks.conftest import (
    Answer,
    Receiver,
    add_endpoint,
    fast_settings,
    rounds_until,
    staff_client,
)
from web.app import create_app


async def _editor_viewer() -> Viewer:
    user, _ = await User.get_or_create(
        email="webhook-editor@example.com", defaults={"display_name": "ed", "role": Role.EDITOR}
    )
    return Viewer(user_id=user.pk, role=Role.EDITOR)


async def _publish_one(title: str = "Вебхук") -> News:
    viewer = await _editor_viewer()

    async def build(check: Any, item: Any) -> Changes:
        return Changes(fields={"title": title, "slug": f"vebhuk-{title.lower()}"})

    item = await editing.create(NEWS, viewer, build)
    await editing.publish(NEWS, viewer, item.pk, None)
    return await News.get(id=item.pk)


async def test_a_published_news_reaches_the_receiver_signed(
    db: TestDatabase, receiver: Receiver
) -> None:
    settings = fast_settings(db)
    secret, endpoint = await add_endpoint(settings, receiver.url, EventType.CONTENT_PUBLISHED)
    async with staff_client(db, "editor") as client:
        news = await create_news(client, title="Делегация Алтайского края")
        published = await mutate(client, PUBLISH_NEWS, {"id": news["id"]})
        assert published["errors"] == []
    sender = WebhookSender(settings)
    await rounds_until(sender, lambda: len(receiver.requests) >= 1)
    await sender.close()
    (request,) = receiver.requests  # the creation was not asked for
    payload = Webhook(secret).verify(request.body, request.headers)
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"].startswith("msg_")
    assert payload["type"] == "content.published"
    data = payload["data"]
    assert data["kind"] == "News"
    assert data["id"] == news["id"]
    assert data["status"] == "PUBLISHED"
    assert data["slug"] == news["slug"]
    assert data["url"] == f"https://invest.example/news/{news['slug']}"
    assert data["revision"] == 2
    assert "status" in data["changedFields"]
    # A wrong secret does not verify.
    other, _ = await add_endpoint(settings, receiver.url)
    with pytest.raises(Exception, match="signature"):
        Webhook(other).verify(request.body, request.headers)
    delivery = await WebhookDelivery.get(endpoint_id=endpoint.pk)
    assert delivery.delivered_at is not None
    assert delivery.attempts == 1
    attempt = await WebhookAttempt.get(delivery_id=delivery.pk)
    assert attempt.status_code == 200
    assert attempt.response_body == '{"ok": true}'


async def test_content_types_and_events_filter_what_an_endpoint_gets(
    db: TestDatabase, receiver: Receiver
) -> None:
    settings = fast_settings(db)
    await add_endpoint(
        settings,
        receiver.url,
        EventType.CONTENT_CREATED,
        EventType.CONTENT_DELETED,
        content_types=("Agreement",),
    )
    await add_endpoint(settings, receiver.url + "?news", EventType.CONTENT_CREATED)
    news = await _publish_one()
    viewer = await _editor_viewer()
    await editing.delete(NEWS, viewer, news.pk)
    sender = WebhookSender(settings)
    await rounds_until(sender, lambda: len(receiver.requests) >= 1)
    await sender.run_once()
    await sender.close()
    assert [(r.path, r.json()["type"]) for r in receiver.requests] == [
        ("/hook?news", "content.created")
    ]


async def test_nothing_is_written_while_no_endpoint_is_active(
    db: TestDatabase, receiver: Receiver
) -> None:
    """An event no endpoint could ever be sent is not written (nor claimed, nor
    closed): sites without webhooks pay nothing for them."""
    settings = fast_settings(db)
    await _publish_one("без адресов")
    assert await WebhookEvent.all().count() == 0
    _, endpoint = await add_endpoint(settings, receiver.url, EventType.CONTENT_PUBLISHED)
    await WebhookEndpoint.filter(id=endpoint.pk).update(active=False)
    await _publish_one("адрес отключён")
    assert await WebhookEvent.all().count() == 0
    await WebhookEndpoint.filter(id=endpoint.pk).update(active=True)
    await _publish_one("адрес включён")
    # The endpoint is active again: both events of this change are kept for the
    # fan-out, which sends it the one it wants.
    assert await WebhookEvent.all().count() == 2
    sender = WebhookSender(settings)
    await rounds_until(sender, lambda: len(receiver.requests) == 1)
    await sender.close()
    assert receiver.requests[0].json()["data"]["slug"] == "vebhuk-адрес включён"


async def test_a_rolled_back_change_sends_nothing(db: TestDatabase, receiver: Receiver) -> None:
    settings = fast_settings(db)
    await add_endpoint(settings, receiver.url, EventType.CONTENT_PUBLISHED)
    viewer = await _editor_viewer()
    news = await News.filter(status="draft").first() or await _publish_one("черновик")

    class UndoError(Exception):
        pass

    async def publish_then_fail() -> None:
        async with in_transaction():
            await editing.publish(NEWS, viewer, news.pk, None)
            raise UndoError

    with pytest.raises(UndoError):
        await publish_then_fail()
    assert await WebhookEvent.filter(event_type="content.published").count() == 0
    sender = WebhookSender(settings)
    for _ in range(3):
        await sender.run_once()
    assert receiver.requests == []
    # The same change committed is delivered.
    await editing.publish(NEWS, viewer, news.pk, None)
    await rounds_until(sender, lambda: len(receiver.requests) == 1)
    await sender.close()


async def test_a_500_and_a_time_out_are_retried_with_the_same_id(
    db: TestDatabase, receiver: Receiver
) -> None:
    settings = fast_settings(db, CMS_WEBHOOK_TIMEOUT_SECONDS="0.5")
    secret, endpoint = await add_endpoint(settings, receiver.url)
    receiver.script = [Answer(500, body=b"boom"), Answer(200, delay=1.5)]
    await _publish_one()
    sender = WebhookSender(settings)
    await rounds_until(sender, lambda: len(receiver.requests) >= 3)
    delivery = await WebhookDelivery.get(endpoint_id=endpoint.pk)
    for _ in range(50):
        await delivery.refresh_from_db()
        if delivery.delivered_at is not None:
            break
        await sender.run_once()
        await asyncio.sleep(0.05)
    await sender.close()
    assert delivery.delivered_at is not None
    assert delivery.attempts == 3
    attempts = await WebhookAttempt.filter(delivery_id=delivery.pk).order_by("id")
    assert [a.status_code for a in attempts] == [500, None, 200]
    assert attempts[0].response_body == "boom"
    assert attempts[1].error is not None
    assert "ожидания" in attempts[1].error
    ids = {request.headers["webhook-id"] for request in receiver.requests}
    assert len(ids) == 1
    for request in receiver.requests:
        Webhook(secret).verify(request.body, request.headers)
    await endpoint.refresh_from_db()
    assert endpoint.active
    assert endpoint.consecutive_failures == 0


async def test_410_gone_disables_the_endpoint_with_the_reason(
    db: TestDatabase, receiver: Receiver
) -> None:
    settings = fast_settings(db)
    _, endpoint = await add_endpoint(settings, receiver.url)
    receiver.default = Answer(410)
    await _publish_one("первая")
    sender = WebhookSender(settings)
    await rounds_until(sender, lambda: len(receiver.requests) >= 1)
    await endpoint.refresh_from_db()
    assert not endpoint.active
    assert endpoint.disabled_reason is not None
    assert "410" in endpoint.disabled_reason
    # Nothing more goes to it: neither retries nor new events.
    await _publish_one("вторая")
    for _ in range(5):
        await sender.run_once()
        await asyncio.sleep(0.05)
    await sender.close()
    assert len(receiver.requests) == 1


async def test_a_run_of_failures_disables_the_endpoint(
    db: TestDatabase, receiver: Receiver
) -> None:
    settings = fast_settings(db, CMS_WEBHOOK_DISABLE_AFTER="3")
    _, endpoint = await add_endpoint(settings, receiver.url)
    receiver.default = Answer(503)
    await _publish_one()
    sender = WebhookSender(settings)
    await rounds_until(sender, lambda: len(receiver.requests) >= 3)
    for _ in range(5):
        await sender.run_once()
        await asyncio.sleep(0.05)
    await sender.close()
    await endpoint.refresh_from_db()
    assert len(receiver.requests) == 3
    assert not endpoint.active
    assert endpoint.consecutive_failures == 3
    assert endpoint.disabled_reason is not None
    assert "503" in endpoint.disabled_reason
    delivery = await WebhookDelivery.get(endpoint_id=endpoint.pk)
    assert delivery.failed_at is not None  # not sent while the endpoint is off


async def test_a_delivery_is_given_up_after_the_last_attempt(
    db: TestDatabase, receiver: Receiver
) -> None:
    settings = fast_settings(db, CMS_WEBHOOK_MAX_ATTEMPTS="2")
    _, endpoint = await add_endpoint(settings, receiver.url)
    receiver.default = Answer(500)
    await _publish_one()
    sender = WebhookSender(settings)
    delivery: list[WebhookDelivery] = []

    def settled() -> bool:
        return bool(delivery) and delivery[0].failed_at is not None

    async def reload() -> None:
        delivery[:] = await WebhookDelivery.filter(endpoint_id=endpoint.pk)

    for _ in range(60):
        await sender.run_once()
        await reload()
        if settled():
            break
        await asyncio.sleep(0.05)
    await sender.close()
    assert settled()
    assert delivery[0].attempts == 2
    assert delivery[0].last_status == 500
    assert len(receiver.requests) == 2


async def test_redirects_are_not_followed(db: TestDatabase, receiver: Receiver) -> None:
    settings = fast_settings(db, CMS_WEBHOOK_MAX_ATTEMPTS="1")
    _, endpoint = await add_endpoint(settings, receiver.url)
    receiver.default = Answer(302, headers={"location": "http://169.254.169.254/latest/"})
    await _publish_one()
    sender = WebhookSender(settings)
    await rounds_until(sender, lambda: len(receiver.requests) >= 1)
    await sender.run_once()
    await sender.close()
    delivery = await WebhookDelivery.get(endpoint_id=endpoint.pk)
    assert delivery.failed_at is not None
    assert delivery.last_status == 302
    assert len(receiver.requests) == 1


async def test_a_rotated_secret_signs_beside_the_new_one_during_the_grace_period(
    db: TestDatabase, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = fast_settings(db)
    old, endpoint = await add_endpoint(settings, receiver.url)
    new, _ = await endpoints.rotate_secret(settings, endpoint.pk, grace_hours=1)
    await _publish_one("первая")
    sender = WebhookSender(settings)
    await rounds_until(sender, lambda: len(receiver.requests) >= 1)
    first = receiver.requests[0]
    assert len(first.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(first.body, first.headers)
    Webhook(new).verify(first.body, first.headers)
    # Without a grace period only the new one signs.
    newest, _ = await endpoints.rotate_secret(settings, endpoint.pk, grace_hours=0)
    await _publish_one("вторая")
    await rounds_until(sender, lambda: len(receiver.requests) >= 2)
    await sender.close()
    second = receiver.requests[1]
    Webhook(newest).verify(second.body, second.headers)
    with pytest.raises(Exception, match="signature"):
        Webhook(new).verify(second.body, second.headers)
    for secret in (old, new, newest):
        assert secret not in caplog.text
        assert secret.removeprefix("whsec_") not in caplog.text


async def test_two_senders_deliver_each_event_once(db: TestDatabase, receiver: Receiver) -> None:
    settings = fast_settings(db)
    await add_endpoint(settings, receiver.url, EventType.CONTENT_CREATED)
    viewer = await _editor_viewer()
    for n in range(12):

        async def build(check: Any, item: Any, n: int = n) -> Changes:
            return Changes(fields={"title": f"Новость {n}", "slug": f"novost-{n}"})

        await editing.create(NEWS, viewer, build)
    first, second = WebhookSender(settings), WebhookSender(settings)
    for _ in range(20):
        await asyncio.gather(first.run_once(), second.run_once())
        if len(receiver.requests) >= 12:
            break
    for _ in range(3):
        await asyncio.gather(first.run_once(), second.run_once())
    await first.close()
    await second.close()
    ids = [request.headers["webhook-id"] for request in receiver.requests]
    assert len(ids) == 12
    assert len(set(ids)) == 12


async def test_the_log_is_pruned_after_its_retention(db: TestDatabase, receiver: Receiver) -> None:
    settings = fast_settings(db, CMS_WEBHOOK_LOG_RETENTION_DAYS="1")
    await add_endpoint(settings, receiver.url)
    await _publish_one()
    sender = WebhookSender(settings)
    await rounds_until(sender, lambda: len(receiver.requests) >= 1)
    await sender.close()
    assert await prune(settings, now()) == 0
    events = await WebhookEvent.all().count()  # the seed content's, this news's two
    assert events >= 2
    assert await prune(settings, now() + timedelta(days=2)) == events
    assert await WebhookEvent.all().count() == 0
    assert await WebhookDelivery.all().count() == 0
    assert await WebhookAttempt.all().count() == 0
    assert await WebhookEndpoint.all().count() == 1


async def test_the_server_delivers_in_its_lifespan_unless_told_not_to(
    db: TestDatabase, receiver: Receiver
) -> None:
    settings = fast_settings(db)
    await add_endpoint(settings, receiver.url, EventType.CONTENT_CREATED)
    for background, expected in (("off", 0), ("on", 2)):  # the first one waits for "on"
        app = create_app(
            fast_settings(db, CMS_BACKGROUND_IN_SERVER=background), manage_database=False
        )
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as http,
        ):
            client = GraphQLClient(http)
            await sign_in(client, "editor")
            await create_news(client, title=f"Фоновая доставка {background}")
            if expected:
                await receiver.wait_for(expected)
            else:
                await asyncio.sleep(0.5)  # several polls of a sender, were one running
                assert receiver.requests == []
    slugs = sorted(request.json()["data"]["slug"] for request in receiver.requests)
    assert slugs == ["fonovaya-dostavka-off", "fonovaya-dostavka-on"]


async def test_a_sender_stops_when_cancelled_as_it_is_woken(db: TestDatabase) -> None:
    # A wake-up (a commit) at the moment the server stops: the loop must still end
    # (asyncio.wait_for on Python 3.11 returned normally there, and the loop ran on).
    settings = fast_settings(db, CMS_WEBHOOK_POLL_SECONDS="30")
    for yields in range(6):
        sender = WebhookSender(settings)
        task = asyncio.create_task(sender.run())
        await asyncio.sleep(0.3)  # its first round done, it waits
        sender.wake()
        for _ in range(yields):
            await asyncio.sleep(0)
        task.cancel()
        async with asyncio.timeout(5):
            await asyncio.gather(task, return_exceptions=True)
        assert task.cancelled(), yields
