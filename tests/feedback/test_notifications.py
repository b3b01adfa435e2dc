"""Staff e-mails about new messages: after the commit, from the outbox, with retries,
against a real SMTP server on a free port."""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import UTC, datetime, timedelta

from cms.models import FeedbackMessage, FeedbackNotification
from cms.services import mail
from cms.services.feedback.notifications import FeedbackMailer, RetryPolicy
from tests.conftest import TestDatabase, make_settings
from tests.feedback.conftest import (
    SmtpServer,
    feedback_app,
    form,
    free_port,
    running,
    submit,
    until,
)

STAFF = "staff@example.ru,duty@example.ru"
PERSONAL = ("Иван Петров", "ivan.petrov@example.ru", "79161234567", "Земельный участок", "ТОР")


def smtp_environ(url: str) -> dict[str, str]:
    return {
        "CMS_SMTP_URL": url,
        "CMS_FEEDBACK_NOTIFY_TO": STAFF,
        "CMS_FEEDBACK_NOTIFY_FROM": "portal@example.ru",
        "CMS_FEEDBACK_QUEUE_URL": "https://admin.invest.example/feedback",
    }


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_a_new_message_is_mailed_to_staff_without_personal_data(
    db: TestDatabase, smtp_server: SmtpServer
) -> None:
    async with (
        feedback_app(db, **smtp_environ(smtp_server.url)) as app,
        running(app),  # starts the mailer
    ):
        payload = await submit(app.client, kind="APPEAL")
        # The staff e-mail, and the citizen's acknowledgement of the appeal's registration.
        await until(lambda: _sent_count_is(2))
    ticket = payload["ticket"]
    staff = [
        (envelope, mail)
        for envelope, mail in zip(
            smtp_server.recorder.received, smtp_server.recorder.messages(), strict=True
        )
        if envelope.rcpt_tos != ["ivan.petrov@example.ru"]
    ]
    ((envelope, mail),) = staff
    assert envelope.mail_from == "portal@example.ru"
    assert envelope.rcpt_tos == ["staff@example.ru", "duty@example.ru"]
    body = mail.get_content()
    assert ticket in mail["Subject"]
    assert ticket in body
    assert "обращение в аппарат полномочного представителя" in body
    assert "https://admin.invest.example/feedback" in body
    for value in PERSONAL:
        assert value not in body
        assert value not in str(mail["Subject"])
    notification = await FeedbackNotification.get(message__ticket=ticket, event_id=None)
    assert notification.sent_at is not None
    assert notification.attempts == 1


async def _sent_count_is(count: int) -> bool:
    return await FeedbackNotification.filter(sent_at__isnull=False).count() == count


async def test_a_refused_e_mail_is_retried_with_backoff(
    db: TestDatabase, smtp_server: SmtpServer
) -> None:
    smtp_server.recorder.refuse = 1  # "451 try again later" once
    settings = make_settings(db.url, **smtp_environ(smtp_server.url))
    async with feedback_app(db, **smtp_environ(smtp_server.url)) as app:  # no lifespan
        ticket = (await submit(app.client))["ticket"]
    clock = Clock()
    mailer = FeedbackMailer(settings, policy=RetryPolicy(first_delay=60), clock=clock)
    first = await mailer.deliver_due()
    assert (first.sent, first.failed) == (0, 1)
    row = await FeedbackNotification.get(message__ticket=ticket)
    assert row.attempts == 1
    assert row.last_error == "SMTPDataError: SMTP 451"
    assert row.next_attempt_at == clock.now + timedelta(seconds=60)
    assert row.sent_at is None
    # Not due yet: nothing is tried.
    clock.now += timedelta(seconds=30)
    idle = await mailer.deliver_due()
    assert (idle.sent, idle.failed) == (0, 0)
    clock.now += timedelta(seconds=31)
    second = await mailer.deliver_due()
    assert (second.sent, second.failed) == (1, 0)
    assert smtp_server.recorder.refused == 1
    assert len(smtp_server.recorder.received) == 1
    row = await FeedbackNotification.get(id=row.pk)
    assert (row.attempts, row.last_error) == (2, None)
    assert row.sent_at is not None
    # Sent is sent: never again.
    clock.now += timedelta(days=1)
    assert (await mailer.deliver_due()).sent == 0


async def test_the_mailer_gives_up_after_the_last_attempt(
    db: TestDatabase, smtp_server: SmtpServer
) -> None:
    smtp_server.recorder.refuse = 10
    settings = make_settings(db.url, **smtp_environ(smtp_server.url))
    async with feedback_app(db, **smtp_environ(smtp_server.url)) as app:
        ticket = (await submit(app.client))["ticket"]
    clock = Clock()
    mailer = FeedbackMailer(
        settings, policy=RetryPolicy(first_delay=10, max_attempts=3), clock=clock
    )
    delays = []
    for _ in range(3):
        assert (await mailer.deliver_due()).failed == 1
        row = await FeedbackNotification.get(message__ticket=ticket)
        delays.append(row.next_attempt_at - clock.now)
        clock.now = row.next_attempt_at
    assert delays[:2] == [timedelta(seconds=10), timedelta(seconds=20)]  # doubling
    row = await FeedbackNotification.get(message__ticket=ticket)
    assert row.failed_at is not None
    assert row.attempts == 3
    clock.now += timedelta(days=1)
    assert (await mailer.deliver_due()).failed == 0


async def test_a_silent_mail_server_never_delays_submissions(db: TestDatabase) -> None:
    # A server that takes the connection and never greets: the mailer's attempt
    # hangs until its 15-second timeout, while the form keeps answering.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"smtp://127.0.0.1:{silent.getsockname()[1]}"
        async with feedback_app(db, **smtp_environ(url)) as app, running(app):
            first = await submit(app.client)
            await until(lambda: FeedbackNotification.filter(attempts=1).exists())  # hanging
            started = time.monotonic()
            second = await submit(app.client, peer="198.51.100.9", message="Второй")
            answered = time.monotonic() - started
    assert [first["errors"], second["errors"]] == [[], []]
    assert answered < mail.TIMEOUT_SECONDS / 3
    assert await FeedbackMessage.filter(ticket=second["ticket"]).exists()
    assert await FeedbackNotification.filter(sent_at__isnull=True).count() == 2


async def test_an_unreachable_mail_server_is_tried_again_later(db: TestDatabase) -> None:
    dead = f"smtp://127.0.0.1:{free_port()}"  # nothing listens there
    async with feedback_app(db, **smtp_environ(dead)) as app:
        payload = await submit(app.client)
    clock = Clock()
    report = await FeedbackMailer(
        make_settings(db.url, **smtp_environ(dead)), clock=clock
    ).deliver_due()
    assert (report.sent, report.failed) == (0, 1)
    row = await FeedbackNotification.get(message__ticket=payload["ticket"])
    assert row.sent_at is None
    assert row.last_error == "ConnectionRefusedError"
    assert row.next_attempt_at == clock.now + timedelta(seconds=30)


async def test_the_outbox_survives_a_restart(db: TestDatabase, smtp_server: SmtpServer) -> None:
    environ = smtp_environ(smtp_server.url)
    async with feedback_app(db, **environ) as first_process:  # stops before sending
        ticket = (await submit(first_process.client))["ticket"]
    assert smtp_server.recorder.received == []
    async with feedback_app(db, **environ) as second_process, running(second_process):
        await smtp_server.recorder.wait_for(1)
    assert ticket in smtp_server.recorder.messages()[0]["Subject"]


async def test_two_senders_never_send_one_notification_twice(
    db: TestDatabase, smtp_server: SmtpServer
) -> None:
    settings = make_settings(db.url, **smtp_environ(smtp_server.url))
    async with feedback_app(db, **smtp_environ(smtp_server.url)) as app:
        for n in range(3):
            await app.client.post(
                "mutation($i: SubmitFeedbackInput!) { submitFeedback(input: $i) { ticket } }",
                {"i": form(email=f"p{n}@example.ru", phone=None, message=f"№{n}")},
            )
    reports = await asyncio.gather(
        FeedbackMailer(settings).deliver_due(), FeedbackMailer(settings).deliver_due()
    )
    assert sum(report.sent for report in reports) == 3
    assert len(smtp_server.recorder.received) == 3
    assert await FeedbackNotification.filter(sent_at__isnull=True).count() == 0
