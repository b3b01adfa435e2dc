"""The life of an appeal: receipt, registration, review, and how it ends.

    received -> registered -> in review -> answered
                     |            |----> forwarded (to the competent body)
                     |            |----> left without answer (an art. 11 reason)
                     +------------+----> withdrawn (by the citizen; also from received)

Registered and in-review appeals may also be answered, forwarded or left directly
from "registered". Each step is data (a Transition: the states it starts from, the
one it leads to, whether it tells the citizen and closes the appeal) taken by one
helper, `_step`, with the step's own change beside it. Every step is one
transaction: the appeal's change (guarded by its revision, as content is), an
AppealEvent row (who, when, what, comment, letter) and, when the citizen is to be
told, the notice in the outbox (FeedbackNotification with the event). A step that
fails or is rolled back leaves no trace, the notice included; a committed one is
mailed once by the FeedbackMailer.

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
from cms.services.feedback.queue import revision_conflict
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


@dataclass(frozen=True, slots=True)
class Transition:
    """A kind of step as data: the states it may start from, the one it leads to (None:
    the state stays), what the refusal calls it, and whether it tells the citizen and
    ends the consideration."""

    action: AppealAction
    allowed_from: tuple[AppealState, ...]
    to_state: AppealState | None
    what: str
    notify: bool = False
    closes: bool = False


_ACTIVE = (AppealState.REGISTERED, AppealState.IN_REVIEW)
_REGISTER = Transition(
    AppealAction.REGISTERED,
    (AppealState.RECEIVED,),
    AppealState.REGISTERED,
    "зарегистрировать",
    notify=True,
)
_START_REVIEW = Transition(
    AppealAction.REVIEW_STARTED,
    (AppealState.REGISTERED,),
    AppealState.IN_REVIEW,
    "взять на рассмотрение",
)
_EXTEND = Transition(AppealAction.EXTENDED, _ACTIVE, None, "продлить срок", notify=True)
_ANSWER = Transition(
    AppealAction.ANSWERED, _ACTIVE, AppealState.ANSWERED, "дать ответ", notify=True, closes=True
)
_FORWARD = Transition(
    AppealAction.FORWARDED,
    _ACTIVE,
    AppealState.FORWARDED,
    "направить по компетенции",
    notify=True,
    closes=True,
)
_LEAVE = Transition(
    AppealAction.LEFT_WITHOUT_ANSWER,
    _ACTIVE,
    AppealState.LEFT_WITHOUT_ANSWER,
    "оставить без ответа",
    notify=True,
    closes=True,
)
# No notice: the citizen asked for it.
_WITHDRAW = Transition(
    AppealAction.WITHDRAWN,
    (AppealState.RECEIVED, *_ACTIVE),
    AppealState.WITHDRAWN,
    "отметить отзыв",
    closes=True,
)


def format_number(settings: Settings, year: int, sequence: int) -> str:
    return settings.appeal_number_pattern.format(year=year, seq=sequence)


@dataclass(frozen=True, slots=True)
class _Moment:
    """A step inside its transaction: the connection, who acts, the settings, when."""

    connection: Any
    actor_id: int | None
    settings: Settings
    at: datetime


@dataclass(frozen=True, slots=True)
class _Entry:
    """What a step writes into the history beside who, when, the action and the states.
    `notice` False keeps a step that tells the citizen from telling them this time."""

    comment: str | None = None
    letter: str | None = None
    attachment_ids: Sequence[int] = ()
    notice: bool = True


# A step's own change of the appeal (beside its state and closing); answers the
# event's details.
Change = Callable[[_Moment, Appeal], Awaitable[dict[str, Any]]]


async def _queue_notice(step: _Moment, message_id: int, event: AppealEvent) -> bool:
    """Puts the citizen's notice of `event` in the outbox, in the step's transaction;
    False when it cannot be mailed (no SMTP configured, or no e-mail to answer to)."""
    if not step.settings.smtp_url:
        return False
    email = (
        await FeedbackMessage.filter(id=message_id)
        .using_db(step.connection)
        .first()
        .values_list("email", flat=True)
    )
    if not email:
        return False
    await FeedbackNotification.create(
        message_id=message_id, event_id=event.pk, next_attempt_at=step.at, using_db=step.connection
    )
    return True


async def _record(
    step: _Moment,
    appeal: Appeal,
    action: AppealAction,
    from_state: AppealState | None,
    entry: _Entry,
    *,
    notify: bool = False,
    details: dict[str, Any] | None = None,
) -> None:
    event = await AppealEvent.create(
        appeal_id=appeal.pk,
        at=step.at,
        actor_id=step.actor_id,
        action=action,
        from_state=from_state,
        to_state=appeal.state,
        comment=entry.comment,
        letter=entry.letter,
        attachment_ids=list(entry.attachment_ids),
        details=details or {},
        using_db=step.connection,
    )
    if notify:
        queued = await _queue_notice(step, appeal.message_id, event)  # type: ignore[attr-defined]
        event.details = {**event.details, "notice": "queued" if queued else "not_sent"}
        await event.save(update_fields=["details"], using_db=step.connection)


async def _take(
    step: _Moment,
    appeal: Appeal,
    transition: Transition,
    entry: _Entry,
    change: Change | None = None,
) -> None:
    """Moves the appeal along `transition`, records it, and saves the appeal."""
    before = appeal.state
    if transition.to_state is not None:
        appeal.state = transition.to_state
    if transition.closes:
        appeal.closed_at = step.at
    details = await change(step, appeal) if change is not None else None
    await _record(
        step,
        appeal,
        transition.action,
        before,
        entry,
        notify=transition.notify and entry.notice,
        details=details,
    )
    await appeal.save(using_db=step.connection)


async def _register(step: _Moment, appeal: Appeal) -> dict[str, Any]:
    """Gives the appeal its number and due date (inside the caller's transaction,
    whose counter lock serialises concurrent registrations)."""
    sequence = await next_number(step.connection, "appeal_number_counter", step.at.year)
    appeal.number = format_number(step.settings, step.at.year, sequence)
    appeal.registered_at = step.at
    due_on = answer_due(step.settings, step.at)
    appeal.due_on = due_on
    appeal.deadline_on = due_on
    return {"number": appeal.number, "due_on": due_on.isoformat()}


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
    step = _Moment(connection, None, settings, moment)
    await _record(step, appeal, AppealAction.RECEIVED, None, _Entry())
    if settings.appeal_registration == "auto":
        await _take(step, appeal, _REGISTER, _Entry(), _register)
    return appeal


# ---------------------------------------------------------------- staff steps


@dataclass(frozen=True, slots=True)
class StepContext:
    """Who acts, and the settings and clock of the step (tests fix the clock)."""

    actor_id: int | None
    settings: Settings
    clock: Callable[[], datetime] = now


async def _step(
    appeal_id: int,
    context: StepContext,
    transition: Transition,
    entry: _Entry,
    expected_revision: int | None,
    change: Change | None = None,
) -> Appeal:
    """Takes `transition` (with `change`) in one transaction, if the appeal is in one
    of its starting states and at `expected_revision` (when given)."""
    moment = context.clock()
    async with in_transaction() as connection:
        # The first statement writes: it takes the row's lock (PostgreSQL) or the
        # database's write lock (SQLite) at once, so concurrent steps queue here.
        guard = Appeal.filter(id=appeal_id, state__in=list(transition.allowed_from))
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
                raise revision_conflict(expected_revision, row.revision)
            raise ValidationFailedError.one(
                ("input", "id"),
                Code.INVALID,
                f"Нельзя {transition.what}: обращение в состоянии «{STATE_NAMES[row.state]}».",
            )
        step = _Moment(connection, context.actor_id, context.settings, moment)
        await _take(step, row, transition, entry, change)
    return row


def _check_text(
    check: Checker,
    value: str | None,
    field: str,
    label: str,
    *,
    required: bool = True,
    max_length: int = MAX_LETTER_LENGTH,
) -> str | None:
    """A comment, reason or letter: multiline text under `input.<field>`."""
    return check.text(
        value,
        ("input", field),
        required=required,
        max_length=max_length,
        multiline=True,
        label=label,
    )


async def _checked(
    check: Checker,
    comment: str | None,
    *,
    comment_required: bool = False,
    letter: str | None = None,
    attachment_ids: Sequence[int] = (),
    notice: bool = True,
) -> _Entry:
    """The step's history entry once its whole input is valid: the comment and the
    attachments are checked after the step's own fields, all errors raised together."""
    clean_comment = _check_text(
        check,
        comment,
        "comment",
        "комментарий",
        required=comment_required,
        max_length=MAX_COMMENT_LENGTH,
    )
    attachments = await _check_attachments(check, attachment_ids)  # none: no query
    check.raise_if_any()
    return _Entry(clean_comment, letter, attachments, notice)


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


async def register(
    appeal_id: int,
    context: StepContext,
    *,
    comment: str | None = None,
    expected_revision: int | None = None,
) -> Appeal:
    """Manual registration (CMS_APPEAL_REGISTRATION=manual): the number, the due date,
    and the acknowledgement to the citizen."""
    entry = await _checked(Checker(), comment)
    return await _step(appeal_id, context, _REGISTER, entry, expected_revision, _register)


async def start_review(
    appeal_id: int,
    context: StepContext,
    *,
    comment: str | None = None,
    expected_revision: int | None = None,
) -> Appeal:
    entry = await _checked(Checker(), comment)
    return await _step(appeal_id, context, _START_REVIEW, entry, expected_revision)


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
    clean_reason = _check_text(
        check, reason, "reason", "причина продления", max_length=MAX_COMMENT_LENGTH
    )
    check.raise_if_any()

    async def change(step: _Moment, appeal: Appeal) -> dict[str, Any]:
        if appeal.extended_days is not None:
            raise ValidationFailedError.one(
                ("input", "id"), Code.INVALID, "Срок рассмотрения этого обращения уже продлевался."
            )
        assert appeal.due_on is not None  # registered states only
        previous = appeal.due_on
        appeal.due_on = extended_due(step.settings, previous, days)
        appeal.deadline_on = appeal.due_on
        appeal.extended_days = days
        appeal.extension_reason = clean_reason or ""  # required: checked above
        appeal.extended_at = step.at
        appeal.extended_by_id = step.actor_id
        return {
            "days": days,
            "previous_due_on": previous.isoformat(),
            "due_on": appeal.due_on.isoformat(),
        }

    entry = _Entry(comment=clean_reason)
    return await _step(appeal_id, context, _EXTEND, entry, expected_revision, change)


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
    letter = _check_text(check, text, "text", "текст ответа")
    entry = await _checked(check, comment, letter=letter, attachment_ids=attachment_ids)
    return await _step(appeal_id, context, _ANSWER, entry, expected_revision)


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
    letter = _check_text(check, covering_letter, "coveringLetter", "сопроводительное письмо")
    entry = await _checked(check, comment, letter=letter, attachment_ids=attachment_ids)

    async def change(step: _Moment, appeal: Appeal) -> dict[str, Any]:
        appeal.forwarded_to = clean_body
        return {"body": clean_body}

    return await _step(appeal_id, context, _FORWARD, entry, expected_revision, change)


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
    no_address = reason is NoAnswerReason.NO_NAME_OR_ADDRESS
    entry = await _checked(Checker(), comment, notice=not no_address)

    async def change(step: _Moment, appeal: Appeal) -> dict[str, Any]:
        appeal.no_answer_reason = reason
        return {"reason": reason.value}

    return await _step(appeal_id, context, _LEAVE, entry, expected_revision, change)


async def withdraw(
    appeal_id: int,
    context: StepContext,
    *,
    comment: str | None,
    expected_revision: int | None = None,
) -> Appeal:
    """Records the citizen's withdrawal (how it was asked for goes in the comment)."""
    entry = await _checked(Checker(), comment, comment_required=True)
    return await _step(appeal_id, context, _WITHDRAW, entry, expected_revision)
