"""Submitting the public form: checking the input, limits, duplicates, the ticket.

The order of a submission:
1. the whole input is checked and cleaned (every problem reported at once);
2. a repeat of a recent message (same contact, same text) answers with the first
   one's ticket at once, and costs nothing against the limits (a double click);
3. a caller already over a limit (per address, per contact) is refused without
   touching the database further;
4. one transaction takes the next ticket number, which serialises submissions
   (see tickets.py); under that lock it looks for a duplicate again (identical
   submissions at the same moment get the first one's ticket), counts the
   limits (so concurrent requests cannot slip past them together), writes the
   message and its staff notification, and commits. Only then is the ticket
   answered; a refusal rolls everything back, the ticket number included.
A filled honeypot field goes the same way and lands as SPAM, without a
notification: the bot sees an ordinary answer.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from cms.errors import Code, FieldError, ValidationFailedError
from cms.models import (
    ConsentChannel,
    ConsentDocument,
    FeedbackKind,
    FeedbackMessage,
    FeedbackNotification,
    FeedbackStatus,
)
from cms.models.base import fold_for_search
from cms.services.appeals import workflow
from cms.services.feedback.tickets import next_ticket
from cms.services.phones import normalize_russian_phone
from cms.services.ratelimit import RateLimiter
from cms.services.validation import (
    Checker,
    clean_text,
    has_hidden_characters,
)
from cms.services.visibility import now
from cms.services.webhooks.events import record_feedback
from cms.settings import Limit, Settings

MAX_NAME_LENGTH = 200
MAX_SUBJECT_LENGTH = 300
# About four typed pages. The request body limit (CMS_MAX_BODY_SIZE, 1 MiB) is far
# above it, so a long message gets this clear error, not a refused request.
MAX_MESSAGE_LENGTH = 10_000
MAX_PHONE_INPUT_LENGTH = 40
HONEYPOT_NOTE = "Автоматически: заполнено скрытое поле формы (вероятно, бот)."


@dataclass(frozen=True, slots=True)
class Submission:
    """The form as sent."""

    kind: FeedbackKind
    name: str | None
    email: str | None
    phone: str | None
    subject: str | None
    message: str | None
    consent_to_processing: bool
    website: str | None = None  # the honeypot
    # The consent document's version the form showed (None: the current one).
    consent_version: int | None = None
    channel: ConsentChannel = ConsentChannel.WEB_FORM


@dataclass(frozen=True, slots=True)
class CleanSubmission:
    kind: FeedbackKind
    name: str
    email: str | None
    phone: str | None
    subject: str | None
    message: str
    is_spam: bool


@dataclass(frozen=True, slots=True)
class Receipt:
    ticket: str
    message_id: int
    created: bool  # False when collapsed into an earlier identical submission
    # An appeal's registration number, once registered (CMS_APPEAL_REGISTRATION=auto).
    appeal_number: str | None = None


class _DuplicateFoundError(Exception):
    def __init__(self, receipt: Receipt) -> None:
        super().__init__(receipt.ticket)
        self.receipt = receipt


# ---------------------------------------------------------------- checking


def _visible_text(
    check: Checker,
    value: str | None,
    field: str,
    label: str,
    *,
    required: bool,
    max_length: int,
    multiline: bool = False,
) -> str | None:
    """Checker.text, naming a value made of invisible characters only. Control
    characters (NUL, terminal escapes) and invisible format characters (zero-width
    spaces, bidi overrides), which copy-paste brings innocently, are stripped: the
    public form cleans what people paste, it does not refuse it."""
    path = ("input", field)
    cleaned = check.text(
        value, path, required=False, max_length=max_length, multiline=multiline, label=label
    )
    if cleaned is None and value is not None and has_hidden_characters(value):
        check.fail(
            path,
            Code.INVALID,
            f"Поле «{label}» содержит только невидимые символы.",
        )
    elif cleaned is None and required:
        check.fail(path, Code.REQUIRED, f"Поле «{label}» обязательно.")
    return cleaned


def _contact_email(check: Checker, value: str | None) -> str | None:
    # Invisible characters pasted with an address are dropped (clean_text) before
    # it is checked: what remains must be a valid address.
    return check.email(value, ("input", "email"))


def _contact_phone(check: Checker, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    path = ("input", "phone")
    value = clean_text(value)
    phone = normalize_russian_phone(value) if len(value) <= MAX_PHONE_INPUT_LENGTH else None
    if phone is None:
        check.fail(
            path,
            Code.INVALID,
            "Укажите российский номер телефона, например +7 916 123-45-67 или 8 (4162) 12-34-56.",
        )
    return phone


def clean_submission(submission: Submission) -> CleanSubmission:
    """The cleaned form, or ValidationFailedError with every problem."""
    check = Checker()
    name = _visible_text(
        check, submission.name, "name", "имя", required=True, max_length=MAX_NAME_LENGTH
    )
    email = _contact_email(check, submission.email)
    phone = _contact_phone(check, submission.phone)
    if (
        email is None
        and phone is None
        and not any(
            error.field in (("input", "email"), ("input", "phone")) for error in check.errors
        )
    ):
        check.fail(
            ("input", "email"),
            Code.REQUIRED,
            "Укажите e-mail или телефон, чтобы мы могли ответить.",
        )
    subject = _visible_text(
        check, submission.subject, "subject", "тема", required=False, max_length=MAX_SUBJECT_LENGTH
    )
    message = _visible_text(
        check,
        submission.message,
        "message",
        "сообщение",
        required=True,
        max_length=MAX_MESSAGE_LENGTH,
        multiline=True,
    )
    if submission.consent_to_processing is not True:
        check.fail(
            ("input", "consentToProcessing"),
            Code.REQUIRED,
            "Без согласия на обработку персональных данных обращение не может быть принято.",
        )
    check.raise_if_any()
    assert name is not None
    assert message is not None
    return CleanSubmission(
        kind=submission.kind,
        name=name,
        email=email,
        phone=phone,
        subject=subject,
        message=message,
        is_spam=bool(submission.website and clean_text(submission.website)),
    )


# ---------------------------------------------------------------- keys


def _keyed_hash(secret: str, purpose: str, value: str) -> str:
    return hmac.new(secret.encode(), f"{purpose}\n{value}".encode(), hashlib.sha256).hexdigest()


def fingerprint(secret: str, clean: CleanSubmission) -> str:
    """Same contact and same text, whatever the case and spacing of the text."""
    text = " ".join(fold_for_search(clean.message).split())
    return _keyed_hash(secret, "feedback", f"{clean.email or ''}\n{clean.phone or ''}\n{text}")


def address_hash(secret: str, address: str) -> str:
    return _keyed_hash(secret, "address", address)


def _limit_keys(address: str, clean: CleanSubmission) -> list[tuple[str, bool]]:
    """(rate-limit key, whether it is a contact) for this submission."""
    keys = [(f"feedback:address:{address}", False)]
    if clean.email:
        keys.append((f"feedback:email:{clean.email}", True))
    if clean.phone:
        keys.append((f"feedback:phone:{clean.phone}", True))
    return keys


# ---------------------------------------------------------------- submitting


async def _recent_duplicate(digest: str, since: datetime) -> Receipt | None:
    row = (
        await FeedbackMessage.filter(fingerprint=digest, created_at__gte=since)
        .order_by("id")
        .first()
        .values("id", "ticket", "appeal__number")
    )
    if row is None:
        return None
    return Receipt(
        ticket=row["ticket"],
        message_id=row["id"],
        created=False,
        appeal_number=row["appeal__number"],
    )


# Plain SQL: every submission reads it, and the queryset took longer to build than
# the statement to run (a tenth of a submission's time).
_CURRENT_CONSENT = (
    f"SELECT id, version FROM {ConsentDocument._meta.db_table} "
    "WHERE published_at IS NOT NULL ORDER BY version DESC LIMIT 1"
)


async def _consent_document(submission: Submission) -> int | None:
    """The id of the consent version the sender accepted: the published one, which
    the form must have shown (a form showing an older text is refused, so nobody
    is recorded as agreeing to a text they did not see). None while no version
    has been published."""
    rows = await get_connection("default").execute_query_dict(_CURRENT_CONSENT)
    current = rows[0] if rows else None
    if submission.consent_version is None:
        return current["id"] if current else None
    if current is None or current["version"] != submission.consent_version:
        raise ValidationFailedError.one(
            ("input", "consentVersion"),
            Code.CONFLICT,
            "Текст согласия на обработку персональных данных изменился: "
            "ознакомьтесь с действующей редакцией и отправьте обращение снова.",
        )
    return int(current["id"])


async def check_limits(
    limiter: RateLimiter, keys: list[tuple[str, Limit]], what: str, *, count: bool = True
) -> None:
    """RATE_LIMITED ("too many `what` in a row") when any key is over its limit, with the
    longest wait; every key is counted (`count`) or only looked at."""
    refused: list[int] = []
    for key, limit in keys:
        decision = await (limiter.hit(key, limit) if count else limiter.peek(key, limit))
        if not decision.allowed:
            refused.append(decision.retry_after)
    if refused:
        wait = max(refused)
        raise ValidationFailedError(
            [
                FieldError(
                    None,
                    Code.RATE_LIMITED,
                    f"Слишком много {what} подряд. Повторите через {wait} с.",
                    retry_after=wait,
                )
            ]
        )


async def _check_limits(
    limiter: RateLimiter, settings: Settings, address: str, clean: CleanSubmission, *, count: bool
) -> None:
    """RATE_LIMITED when a limit is reached; `count` records this submission too."""
    keys = [
        (key, settings.feedback_limit_contact if is_contact else settings.feedback_limit_address)
        for key, is_contact in _limit_keys(address, clean)
    ]
    await check_limits(limiter, keys, "обращений", count=count)


def notifications_enabled(settings: Settings) -> bool:
    return bool(settings.smtp_url and settings.feedback_notify_to)


async def submit_feedback(
    submission: Submission, *, address: str, settings: Settings, limiter: RateLimiter
) -> Receipt:
    """The ticket of the stored message; returns only after the commit."""
    clean = clean_submission(submission)
    digest = fingerprint(settings.secret_key, clean)
    moment = now()
    dedupe = settings.feedback_dedupe_seconds
    since = moment - timedelta(seconds=dedupe)
    if dedupe:
        earlier = await _recent_duplicate(digest, since)
        if earlier is not None:
            return earlier
    await _check_limits(limiter, settings, address, clean, count=False)
    consent_id = await _consent_document(submission)
    appeal_number = None
    try:
        async with in_transaction() as connection:
            ticket = await next_ticket(connection, moment.year)
            if dedupe:
                earlier = await _recent_duplicate(digest, since)
                if earlier is not None:
                    raise _DuplicateFoundError(earlier)  # rolls the ticket number back
            await _check_limits(limiter, settings, address, clean, count=True)
            row = FeedbackMessage(
                ticket=ticket,
                kind=clean.kind,
                name=clean.name,
                email=clean.email,
                phone=clean.phone,
                subject=clean.subject,
                message=clean.message,
                feedback_status=FeedbackStatus.SPAM if clean.is_spam else FeedbackStatus.NEW,
                staff_note=HONEYPOT_NOTE if clean.is_spam else None,
                consent_at=moment,
                consent_version_id=consent_id,
                consent_channel=submission.channel,
                address_hash=address_hash(settings.secret_key, address),
                fingerprint=digest,
            )
            await row.save(using_db=connection)
            if not clean.is_spam and notifications_enabled(settings):
                await FeedbackNotification.create(
                    message_id=row.pk, next_attempt_at=moment, using_db=connection
                )
            if not clean.is_spam:
                await record_feedback(row, connection)
            if clean.kind == FeedbackKind.APPEAL and not clean.is_spam:
                appeal = await workflow.receive(connection, row, settings, moment)
                appeal_number = appeal.number
    except _DuplicateFoundError as duplicate:
        return duplicate.receipt
    return Receipt(ticket=ticket, message_id=row.pk, created=True, appeal_number=appeal_number)
