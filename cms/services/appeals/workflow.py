"""The life of an appeal: receipt, registration, review, and how it ends.

    received -> registered -> in review -> answered
                     |            |----> forwarded (to the competent body)
                     |            |----> left without answer (an art. 11 reason)
                     +------------+----> withdrawn (by the citizen; also from received)

Registered and in-review appeals may also be answered, forwarded or left directly
from "registered". Every step is one transaction: the appeal's change (guarded by
its revision, as content is), an AppealEvent row (who, when, what, comment,
letter) and, when the citizen is to be told, the notice in the outbox
(FeedbackNotification with the event). A step that fails or is rolled back leaves
no trace, the notice included; a committed one is mailed once by the
FeedbackMailer.

Who may take which step is checked by the API (services/permissions.py):
MANAGE_FEEDBACK for every step, EXTEND_APPEAL_DEADLINE for the extension.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from cms.errors import Code, ValidationFailedError
from cms.models import (
    Appeal,
    AppealAction,
    AppealEvent,
    AppealState,
    FeedbackMessage,
    FeedbackNotification,
    MediaAsset,
    NoAnswerReason,
)
from cms.services.appeals.deadlines import answer_due, extended_due, registration_due
from cms.services.feedback.tickets import next_number
from cms.services.validation import Checker
from cms.services.visibility import now
from cms.settings import Settings

MAX_COMMENT_LENGTH = 5000
MAX_LETTER_LENGTH = 50_000
MAX_BODY_LENGTH = 300
MAX_ATTACHMENTS = 20

STATE_NAMES = {
    AppealState.RECEIVED: "поступило",
    AppealState.REGISTERED: "зарегистрировано",
    AppealState.IN_REVIEW: "на рассмотрении",
    AppealState.ANSWERED: "дан ответ",
    AppealState.FORWARDED: "направлено по компетенции",
    AppealState.LEFT_WITHOUT_ANSWER: "оставлено без ответа по существу",
    AppealState.WITHDRAWN: "отозвано гражданином",
}
_ACTIVE = (AppealState.REGISTERED, AppealState.IN_REVIEW)


def format_number(settings: Settings, year: int, sequence: int) -> str:
    return settings.appeal_number_pattern.format(year=year, seq=sequence)


async def _queue_notice(
    connection: Any, message_id: int, event: AppealEvent, settings: Settings, moment: datetime
) -> bool:
    """Puts the citizen's notice of `event` in the outbox, in the step's transaction;
    False when it cannot be mailed (no SMTP configured, or no e-mail to answer to)."""
    if not settings.smtp_url:
        return False
    email = (
        await FeedbackMessage.filter(id=message_id)
        .using_db(connection)
        .first()
        .values_list("email", flat=True)
    )
    if not email:
        return False
    await FeedbackNotification.create(
        message_id=message_id, event_id=event.pk, next_attempt_at=moment, using_db=connection
    )
    return True


async def _record(
    connection: Any,
    appeal: Appeal,
    *,
    action: AppealAction,
    from_state: AppealState | None,
    actor_id: int | None,
    moment: datetime,
    settings: Settings,
    notify: bool,
    comment: str | None = None,
    letter: str | None = None,
    attachment_ids: Sequence[int] = (),
    details: dict[str, Any] | None = None,
) -> AppealEvent:
    event = await AppealEvent.create(
        appeal_id=appeal.pk,
        at=moment,
        actor_id=actor_id,
        action=action,
        from_state=from_state,
        to_state=appeal.state,
        comment=comment,
        letter=letter,
        attachment_ids=list(attachment_ids),
        details=details or {},
        using_db=connection,
    )
    if notify:
        queued = await _queue_notice(connection, appeal.message_id, event, settings, moment)  # type: ignore[attr-defined]
        event.details = {**event.details, "notice": "queued" if queued else "not_sent"}
        await event.save(update_fields=["details"], using_db=connection)
    return event


async def _register(connection: Any, appeal: Appeal, settings: Settings, moment: datetime) -> None:
    """Gives the appeal its number and due date (inside the caller's transaction,
    whose counter lock serialises concurrent registrations)."""
    sequence = await next_number(connection, "appeal_number_counter", moment.year)
    appeal.number = format_number(settings, moment.year, sequence)
    appeal.registered_at = moment
    appeal.due_on = answer_due(settings, moment)
    appeal.deadline_on = appeal.due_on
    appeal.state = AppealState.REGISTERED


async def receive(
    connection: Any, message: FeedbackMessage, settings: Settings, moment: datetime
) -> Appeal:
    """The appeal of a just stored message, in the submission's transaction;
    registered at once when CMS_APPEAL_REGISTRATION is auto."""
    due = registration_due(settings, moment)
    appeal = Appeal(
        message_id=message.pk,
        state=AppealState.RECEIVED,
        received_at=moment,
        registration_due_on=due,
        deadline_on=due,
    )
    await appeal.save(using_db=connection)
    await _record(
        connection,
        appeal,
        action=AppealAction.RECEIVED,
        from_state=None,
        actor_id=None,
        moment=moment,
        settings=settings,
        notify=False,
    )
    if settings.appeal_registration == "auto":
        await _register(connection, appeal, settings, moment)
        await appeal.save(using_db=connection)
        await _record(
            connection,
            appeal,
            action=AppealAction.REGISTERED,
            from_state=AppealState.RECEIVED,
            actor_id=None,
            moment=moment,
            settings=settings,
            notify=True,
            details={"number": appeal.number, "due_on": appeal.due_on.isoformat()},  # type: ignore[union-attr]
        )
    return appeal


# ---------------------------------------------------------------- staff steps


@dataclass(frozen=True, slots=True)
class StepContext:
    """Who acts, and the settings and clock of the step (tests fix the clock)."""

    actor_id: int | None
    settings: Settings
    clock: Callable[[], datetime] = now


def _conflict(expected: int, actual: int) -> ValidationFailedError:
    return ValidationFailedError.one(
        ("input", "expectedRevision"),
        Code.CONFLICT,
        f"Обращение уже изменил кто-то другой (версия {actual}, а не {expected}). "
        "Обновите страницу и повторите.",
    )


def _wrong_state(state: AppealState, what: str) -> ValidationFailedError:
    return ValidationFailedError.one(
        ("input", "id"),
        Code.INVALID,
        f"Нельзя {what}: обращение в состоянии «{STATE_NAMES[state]}».",
    )


Apply = Callable[[Any, Appeal, datetime], Awaitable[AppealEvent]]


async def _step(
    appeal_id: int,
    expected_revision: int | None,
    allowed_from: Sequence[AppealState],
    what: str,
    apply: Apply,
    context: StepContext,
) -> Appeal:
    """Runs `apply` on the appeal in one transaction, if it is in one of
    `allowed_from` and at `expected_revision` (when given)."""
    moment = context.clock()
    async with in_transaction() as connection:
        # The first statement writes: it takes the row's lock (PostgreSQL) or the
        # database's write lock (SQLite) at once, so concurrent steps queue here.
        guard = Appeal.filter(id=appeal_id, state__in=list(allowed_from))
        if expected_revision is not None:
            guard = guard.filter(revision=expected_revision)
        bumped = await guard.using_db(connection).update(
            revision=F("revision") + 1, updated_at=moment
        )
        row = await Appeal.get_or_none(id=appeal_id, using_db=connection)
        if row is None:
            raise ValidationFailedError.one(
                ("input", "id"), Code.NOT_FOUND, "Обращение не найдено."
            )
        if not bumped:
            if expected_revision is not None and row.revision != expected_revision:
                raise _conflict(expected_revision, row.revision)
            raise _wrong_state(row.state, what)
        await apply(connection, row, moment)
        await row.save(using_db=connection)
    return row


def _check_comment(check: Checker, comment: str | None, *, required: bool = False) -> str | None:
    return check.text(
        comment,
        ("input", "comment"),
        required=required,
        max_length=MAX_COMMENT_LENGTH,
        multiline=True,
        label="комментарий",
    )


async def register(
    appeal_id: int,
    context: StepContext,
    *,
    comment: str | None = None,
    expected_revision: int | None = None,
) -> Appeal:
    """Manual registration (CMS_APPEAL_REGISTRATION=manual): the number, the due date,
    and the acknowledgement to the citizen."""
    check = Checker()
    clean_comment = _check_comment(check, comment)
    check.raise_if_any()

    async def apply(connection: Any, appeal: Appeal, moment: datetime) -> AppealEvent:
        await _register(connection, appeal, context.settings, moment)
        return await _record(
            connection,
            appeal,
            action=AppealAction.REGISTERED,
            from_state=AppealState.RECEIVED,
            actor_id=context.actor_id,
            moment=moment,
            settings=context.settings,
            notify=True,
            comment=clean_comment,
            details={"number": appeal.number, "due_on": appeal.due_on.isoformat()},  # type: ignore[union-attr]
        )

    return await _step(
        appeal_id, expected_revision, (AppealState.RECEIVED,), "зарегистрировать", apply, context
    )


async def start_review(
    appeal_id: int,
    context: StepContext,
    *,
    comment: str | None = None,
    expected_revision: int | None = None,
) -> Appeal:
    check = Checker()
    clean_comment = _check_comment(check, comment)
    check.raise_if_any()

    async def apply(connection: Any, appeal: Appeal, moment: datetime) -> AppealEvent:
        appeal.state = AppealState.IN_REVIEW
        return await _record(
            connection,
            appeal,
            action=AppealAction.REVIEW_STARTED,
            from_state=AppealState.REGISTERED,
            actor_id=context.actor_id,
            moment=moment,
            settings=context.settings,
            notify=False,
            comment=clean_comment,
        )

    return await _step(
        appeal_id,
        expected_revision,
        (AppealState.REGISTERED,),
        "взять на рассмотрение",
        apply,
        context,
    )


async def extend(
    appeal_id: int,
    context: StepContext,
    *,
    days: int,
    reason: str | None,
    expected_revision: int | None = None,
) -> Appeal:
    """Extends the answer's deadline once, by up to CMS_APPEAL_MAX_EXTENSION_DAYS,
    with a reason; the citizen is told (art. 12 p. 2)."""
    check = Checker()
    maximum = context.settings.appeal_max_extension_days
    if not 1 <= days <= maximum:
        check.fail(
            ("input", "days"),
            Code.INVALID,
            f"Срок можно продлить на 1–{maximum} дней, не на {days}.",
        )
    clean_reason = check.text(
        reason,
        ("input", "reason"),
        required=True,
        max_length=MAX_COMMENT_LENGTH,
        multiline=True,
        label="причина продления",
    )
    check.raise_if_any()

    async def apply(connection: Any, appeal: Appeal, moment: datetime) -> AppealEvent:
        if appeal.extended_days is not None:
            raise ValidationFailedError.one(
                ("input", "id"), Code.INVALID, "Срок рассмотрения этого обращения уже продлевался."
            )
        assert appeal.due_on is not None  # registered states only
        previous = appeal.due_on
        appeal.due_on = extended_due(context.settings, previous, days)
        appeal.deadline_on = appeal.due_on
        appeal.extended_days = days
        appeal.extension_reason = clean_reason or ""  # required: checked above
        appeal.extended_at = moment
        appeal.extended_by_id = context.actor_id
        return await _record(
            connection,
            appeal,
            action=AppealAction.EXTENDED,
            from_state=appeal.state,
            actor_id=context.actor_id,
            moment=moment,
            settings=context.settings,
            notify=True,
            comment=clean_reason,
            details={
                "days": days,
                "previous_due_on": previous.isoformat(),
                "due_on": appeal.due_on.isoformat(),
            },
        )

    return await _step(appeal_id, expected_revision, _ACTIVE, "продлить срок", apply, context)


async def _check_attachments(check: Checker, attachment_ids: Sequence[int]) -> list[int]:
    unique = list(dict.fromkeys(attachment_ids))
    if len(unique) > MAX_ATTACHMENTS:
        check.fail(("input", "attachments"), Code.INVALID, f"Не больше {MAX_ATTACHMENTS} вложений.")
        return []
    found = (
        set(await MediaAsset.filter(id__in=unique).values_list("id", flat=True))
        if unique
        else set()
    )
    if len(found) != len(unique):
        check.fail(("input", "attachments"), Code.NOT_FOUND, "Некоторых вложений нет в медиатеке.")
    return unique


async def answer(
    appeal_id: int,
    context: StepContext,
    *,
    text: str | None,
    attachment_ids: Sequence[int] = (),
    comment: str | None = None,
    expected_revision: int | None = None,
) -> Appeal:
    """The answer on the merits: kept with the appeal and mailed to the citizen."""
    check = Checker()
    letter = check.text(
        text,
        ("input", "text"),
        required=True,
        max_length=MAX_LETTER_LENGTH,
        multiline=True,
        label="текст ответа",
    )
    clean_comment = _check_comment(check, comment)
    attachments = await _check_attachments(check, attachment_ids)
    check.raise_if_any()

    async def apply(connection: Any, appeal: Appeal, moment: datetime) -> AppealEvent:
        before = appeal.state
        appeal.state = AppealState.ANSWERED
        appeal.closed_at = moment
        return await _record(
            connection,
            appeal,
            action=AppealAction.ANSWERED,
            from_state=before,
            actor_id=context.actor_id,
            moment=moment,
            settings=context.settings,
            notify=True,
            comment=clean_comment,
            letter=letter,
            attachment_ids=attachments,
        )

    return await _step(appeal_id, expected_revision, _ACTIVE, "дать ответ", apply, context)


async def forward(
    appeal_id: int,
    context: StepContext,
    *,
    body: str | None,
    covering_letter: str | None,
    attachment_ids: Sequence[int] = (),
    comment: str | None = None,
    expected_revision: int | None = None,
) -> Appeal:
    """Sends the appeal to the body competent to answer it (art. 8 p. 3), with the
    covering letter kept here; the citizen is told where it went."""
    check = Checker()
    clean_body = check.text(
        body, ("input", "body"), required=True, max_length=MAX_BODY_LENGTH, label="орган"
    )
    letter = check.text(
        covering_letter,
        ("input", "coveringLetter"),
        required=True,
        max_length=MAX_LETTER_LENGTH,
        multiline=True,
        label="сопроводительное письмо",
    )
    clean_comment = _check_comment(check, comment)
    attachments = await _check_attachments(check, attachment_ids)
    check.raise_if_any()

    async def apply(connection: Any, appeal: Appeal, moment: datetime) -> AppealEvent:
        before = appeal.state
        appeal.state = AppealState.FORWARDED
        appeal.forwarded_to = clean_body
        appeal.closed_at = moment
        return await _record(
            connection,
            appeal,
            action=AppealAction.FORWARDED,
            from_state=before,
            actor_id=context.actor_id,
            moment=moment,
            settings=context.settings,
            notify=True,
            comment=clean_comment,
            letter=letter,
            attachment_ids=attachments,
            details={"body": clean_body},
        )

    return await _step(
        appeal_id, expected_revision, _ACTIVE, "направить по компетенции", apply, context
    )


async def leave_without_answer(
    appeal_id: int,
    context: StepContext,
    *,
    reason: NoAnswerReason,
    comment: str | None = None,
    expected_revision: int | None = None,
) -> Appeal:
    """Leaves the appeal without an answer on the merits for an art. 11 reason. The
    citizen is told, except when the reason is that there is no address to tell."""
    check = Checker()
    clean_comment = _check_comment(check, comment)
    check.raise_if_any()

    async def apply(connection: Any, appeal: Appeal, moment: datetime) -> AppealEvent:
        before = appeal.state
        appeal.state = AppealState.LEFT_WITHOUT_ANSWER
        appeal.no_answer_reason = reason
        appeal.closed_at = moment
        return await _record(
            connection,
            appeal,
            action=AppealAction.LEFT_WITHOUT_ANSWER,
            from_state=before,
            actor_id=context.actor_id,
            moment=moment,
            settings=context.settings,
            notify=reason is not NoAnswerReason.NO_NAME_OR_ADDRESS,
            comment=clean_comment,
            details={"reason": reason.value},
        )

    return await _step(appeal_id, expected_revision, _ACTIVE, "оставить без ответа", apply, context)


async def withdraw(
    appeal_id: int,
    context: StepContext,
    *,
    comment: str | None,
    expected_revision: int | None = None,
) -> Appeal:
    """Records the citizen's withdrawal (how it was asked for goes in the comment);
    no notice: the citizen asked for it."""
    check = Checker()
    clean_comment = _check_comment(check, comment, required=True)
    check.raise_if_any()

    async def apply(connection: Any, appeal: Appeal, moment: datetime) -> AppealEvent:
        before = appeal.state
        appeal.state = AppealState.WITHDRAWN
        appeal.closed_at = moment
        return await _record(
            connection,
            appeal,
            action=AppealAction.WITHDRAWN,
            from_state=before,
            actor_id=context.actor_id,
            moment=moment,
            settings=context.settings,
            notify=False,
            comment=clean_comment,
        )

    return await _step(
        appeal_id,
        expected_revision,
        (AppealState.RECEIVED, *_ACTIVE),
        "отметить отзыв",
        apply,
        context,
    )
