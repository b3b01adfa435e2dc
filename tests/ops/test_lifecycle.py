"""Stopping: /readyz says "draining" once the process is told to stop, /healthz stays
a liveness check, and the outbox mailer gives back the e-mail it was sending."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Iterator

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from cms.models import FeedbackNotification
from cms.services.feedback.notifications import FeedbackMailer
from cms.services.visibility import now
from tests.conftest import TestDatabase, make_settings
from tests.feedback.conftest import feedback_app, free_port, submit
from web.app import create_app
from web.lifecycle import Draining, watch_signals


async def test_readyz_reports_draining_and_healthz_stays_ok(seeded_db: TestDatabase) -> None:
    app = create_app(make_settings(seeded_db.url), manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        assert (await http.get("/readyz")).status_code == 200
        app.state.draining.begin()
        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json() == {"status": "draining"}
        health = await http.get("/healthz")
        assert (health.status_code, health.json()) == (200, {"status": "ok"})


def test_a_stop_signal_marks_draining_before_the_servers_handler() -> None:
    """The chained handler sets the flag, then calls the handler it found (uvicorn's)."""
    seen: list[bool] = []
    draining = Draining()
    previous = signal.signal(signal.SIGTERM, lambda sig, frame: seen.append(draining.active))
    try:
        restore = watch_signals(draining)
        os.kill(os.getpid(), signal.SIGTERM)
        assert seen == [True]
        restore()
        assert draining.active
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Stalling:
    """An SMTP server that takes the message and then does not answer until released
    (then refuses it for now)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.entered.set()
        await asyncio.to_thread(self.release.wait, 30)
        return "451 try again later"


@pytest.fixture
def stalling_smtp() -> Iterator[tuple[_Stalling, int]]:
    handler = _Stalling()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        handler.release.set()
        controller.stop()


async def test_a_stopped_mailer_gives_its_claim_back(
    db: TestDatabase, stalling_smtp: tuple[_Stalling, int]
) -> None:
    handler, port = stalling_smtp
    environ = {
        "CMS_SMTP_URL": f"smtp://127.0.0.1:{port}",
        "CMS_FEEDBACK_NOTIFY_TO": "staff@example.ru",
    }
    async with feedback_app(db, **environ) as app:  # no lifespan: no mailer of its own
        ticket = (await submit(app.client))["ticket"]
    mailer = FeedbackMailer(make_settings(db.url, **environ))
    sending = asyncio.create_task(mailer.deliver_due())
    assert await asyncio.to_thread(handler.entered.wait, 15)
    claimed = await FeedbackNotification.get(message__ticket=ticket)
    assert claimed.attempts == 1
    assert claimed.next_attempt_at > now()  # leased to this sender
    sending.cancel()  # the server stops
    with pytest.raises(asyncio.CancelledError):
        await sending
    handler.release.set()
    row = await FeedbackNotification.get(message__ticket=ticket)
    assert row.sent_at is None
    assert row.failed_at is None
    assert row.attempts == 0  # the interrupted attempt does not count
    assert row.next_attempt_at <= now()  # due again at once, for any process
