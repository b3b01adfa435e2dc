"""Telling staff about new messages by e-mail, from the outbox, after the commit.

A submission writes a FeedbackNotification row in its own transaction; this
module sends the rows that are due, so an e-mail leaves only for a committed
message, a slow or absent mail server never delays a submission, and a restart
loses nothing (the outbox is in the database). A failure is retried with
exponential backoff; several server processes share the work safely, each
claiming a row before sending it.

The e-mail holds no personal data of the sender: the ticket, the kind, the time
and a link to the staff queue. Staff read the message itself after logging in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.expressions import Q

from cms.models import (
    Appeal,
    AppealEvent,
    FeedbackKind,
    FeedbackMessage,
    FeedbackNotification,
    MediaAsset,
)
from cms.observability import hooks, report_unexpected
from cms.services import outbox
from cms.services.appeals.notices import compose_notice
from cms.services.mail import Mail, SmtpServer, send_mail
from cms.services.visibility import now
from cms.settings import Settings

logger = logging.getLogger("cms.feedback.notifications")

# Rows still to send (neither sent nor given up on).
PENDING = Q(sent_at__isnull=True, failed_at__isnull=True)

KIND_NAMES = {
    FeedbackKind.QUESTION: "вопрос",
    FeedbackKind.APPEAL: "обращение в аппарат полномочного представителя",
    FeedbackKind.PROPOSAL: "предложение",
}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    first_delay: float = 30.0  # seconds before the second attempt; doubles after each
    max_delay: float = 3600.0
    max_attempts: int = 12  # about a day of trying with the defaults
    lease: float = 120.0  # a claimed row is due again after this, if its sender died

    def delay(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.max_delay, self.first_delay * 2 ** (attempts - 1)))


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0  # this attempt failed; retried later unless it was the last


def compose(settings: Settings, message: FeedbackMessage) -> Mail:
    kind = KIND_NAMES.get(message.kind, str(message.kind))
    received = message.created_at.strftime("%d.%m.%Y %H:%M UTC")
    body = (
        "На портал поступило новое обращение.\n\n"
        f"Номер: {message.ticket}\n"
        f"Вид: {kind}\n"
        f"Получено: {received}\n\n"
        f"Очередь обращений: {settings.feedback_queue_url}\n\n"
        "Имя, контакты и текст обращения в письмо не включаются: "
        "они доступны в очереди обращений после входа.\n"
    )
    return Mail(
        sender=settings.feedback_notify_from,
        recipients=settings.feedback_notify_to,
        subject=f"Новое обращение {message.ticket} ({kind})",
        body=body,
    )


def _describe(error: Exception) -> str:
    """What went wrong, without anything the server echoed back from the message."""
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{type(error).__name__}: SMTP {error.smtp_code}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "SMTPRecipientsRefused"
    return type(error).__name__


class FeedbackMailer:
    """Sends due notifications; `run()` is the background loop of a server process."""

    def __init__(
        self,
        settings: Settings,
        *,
        policy: RetryPolicy | None = None,
        poll_seconds: float = 30.0,
        clock: Callable[[], datetime] = now,
    ) -> None:
        # Staff e-mails also need CMS_FEEDBACK_NOTIFY_TO (see submission.py); the
        # citizens' notices about appeals need only the server.
        if not settings.smtp_url:
            raise ValueError("notifications need CMS_SMTP_URL")
        self.settings = settings
        self.server = SmtpServer.from_url(settings.smtp_url)
        self.policy = policy or RetryPolicy()
        self.poll_seconds = poll_seconds
        self.clock = clock
        self._wakeup = asyncio.Event()

    def wake(self) -> None:
        """A new message was committed: look at the outbox now, not at the next poll."""
        self._wakeup.set()

    async def _deliver(self, row: FeedbackNotification, moment: datetime) -> bool:
        attempts = row.attempts  # this one included (claimed)
        message = await FeedbackMessage.get_or_none(id=row.message_id)
        mail = await self._compose(row, message) if message is not None else None
        if message is None or mail is None:  # erased meanwhile: nothing to tell
            await FeedbackNotification.filter(id=row.pk).delete()
            return True
        try:
            await send_mail(self.server, mail)
        except Exception as error:  # any failure is retried; cancellation is not caught
            hooks.delivery_failed()
            described = _describe(error)
            if attempts >= self.policy.max_attempts:
                await FeedbackNotification.filter(id=row.pk).update(
                    failed_at=self.clock(), last_error=described
                )
                logger.error(
                    "notification of %s failed for good after %d attempts: %s",
                    message.ticket,
                    attempts,
                    described,
                )
            else:
                await FeedbackNotification.filter(id=row.pk).update(
                    next_attempt_at=moment + self.policy.delay(attempts), last_error=described
                )
                logger.warning(
                    "notification of %s failed (attempt %d), will retry: %s",
                    message.ticket,
                    attempts,
                    described,
                )
            return False
        await FeedbackNotification.filter(id=row.pk).update(sent_at=self.clock(), last_error=None)
        logger.info("notification of %s sent", message.ticket)
        return True

    async def _compose(self, row: FeedbackNotification, message: FeedbackMessage) -> Mail | None:
        """The staff e-mail, or the citizen's notice of an appeal's step; None when
        the citizen's address is gone (anonymised)."""
        event_id = row.event_id  # type: ignore[attr-defined]
        if event_id is None:
            return compose(self.settings, message)
        if not message.email:
            return None
        event = await AppealEvent.get(id=event_id)
        appeal = await Appeal.get(id=event.appeal_id)  # type: ignore[attr-defined]
        assets = (
            await MediaAsset.filter(id__in=event.attachment_ids).order_by("id")
            if event.attachment_ids
            else []
        )
        return compose_notice(self.settings, message, appeal, event, list(assets))

    async def deliver_due(self, *, batch: int = 20) -> DeliveryReport:
        """Sends the notifications due now, oldest first; one batch."""
        moment = self.clock()
        sent = failed = 0
        # One row at a time: a claim is held only while its own e-mail is sent, so a
        # slow mail server never outlasts the leases of rows waiting behind it.
        for _ in range(batch):
            claimed = await outbox.claim(
                FeedbackNotification,
                PENDING,
                moment=moment,
                lease=timedelta(seconds=self.policy.lease),
                limit=1,
            )
            if not claimed:
                break
            try:
                delivered = await self._deliver(claimed[0], moment)
            except asyncio.CancelledError:
                # The server is stopping: the row goes back to the outbox at once, for
                # another process (or the next start), instead of waiting out the lease.
                await asyncio.shield(outbox.release(FeedbackNotification, PENDING, claimed, moment))
                raise
            if delivered:
                sent += 1
            else:
                failed += 1
        return DeliveryReport(sent=sent, failed=failed)

    async def _seconds_to_next(self) -> float:
        return await outbox.seconds_to_next(
            FeedbackNotification, PENDING, self.clock(), self.poll_seconds
        )

    async def run(self) -> None:
        """Until cancelled: send what is due, then sleep until the next due row, the
        next poll (rows of other processes) or a wake-up, whichever comes first."""
        while True:
            self._wakeup.clear()  # a wake-up during this round is kept for the next
            try:
                report = await self.deliver_due()
                wait = 0.0 if report.sent + report.failed else await self._seconds_to_next()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                # The database may be briefly away; the outbox keeps the work.
                report_unexpected(error)
                logger.exception("feedback notifications: a round failed")
                wait = self.poll_seconds
            if wait > 0:
                # Not asyncio.wait_for: on Python 3.11 its inner task can miss the
                # cancellation that stops the server, which then waits for ever.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._wakeup.wait()


async def outbox_depth() -> tuple[int, int]:
    """(notifications waiting to be sent, notifications given up on), for metrics."""
    pending = await FeedbackNotification.filter(
        sent_at__isnull=True, failed_at__isnull=True
    ).count()
    failed = await FeedbackNotification.filter(failed_at__isnull=False).count()
    return pending, failed
