"""The staff's work queue: filtering messages, counting them, status, notes, assignment.

Who may do what is checked by the API before these are called (READ_FEEDBACK,
MANAGE_FEEDBACK, COUNT_FEEDBACK in services/permissions.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.functions import Count
from tortoise.queryset import QuerySet

from cms.errors import Code, FieldError, InvalidArgumentError, ValidationFailedError
from cms.models import FeedbackKind, FeedbackMessage, FeedbackStatus, User
from cms.services.fulltext import feedback_q, index_waiting
from cms.services.pagination import Ordering, SortKey
from cms.services.permissions import Action, allowed
from cms.services.validation import Checker
from cms.services.viewer import Viewer
from cms.services.visibility import now, visible

QUEUE_ORDER = Ordering(
    "feedback:created_desc",
    (SortKey("created_at", "datetime", True), SortKey("id", "int", True)),
)
MAX_STAFF_NOTE_LENGTH = 5000


@dataclass(frozen=True, slots=True)
class QueueFilter:
    # Any of these; None: every message but SPAM, which is only listed when asked for.
    statuses: tuple[FeedbackStatus, ...] | None = None
    kind: FeedbackKind | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    search: str | None = None
    assignee_id: int | None = None
    unassigned: bool = False

    def __post_init__(self) -> None:
        if self.statuses is not None and not self.statuses:
            raise InvalidArgumentError("statuses", "Укажите хотя бы один статус.")


async def queue_queryset(viewer: Viewer, queue_filter: QueueFilter) -> QuerySet[FeedbackMessage]:
    if queue_filter.search is not None and queue_filter.search.strip():
        # New messages are indexed after their commit: the search finds them all.
        await index_waiting(FeedbackMessage)
    queryset = visible(FeedbackMessage, viewer)
    if queue_filter.statuses is None:
        queryset = queryset.exclude(feedback_status=FeedbackStatus.SPAM)
    else:
        queryset = queryset.filter(feedback_status__in=queue_filter.statuses)
    if queue_filter.kind is not None:
        queryset = queryset.filter(kind=queue_filter.kind)
    if queue_filter.created_after is not None:
        queryset = queryset.filter(created_at__gte=queue_filter.created_after)
    if queue_filter.created_before is not None:
        queryset = queryset.filter(created_at__lt=queue_filter.created_before)
    if queue_filter.search is not None:
        queryset = queryset.filter(feedback_q(viewer, queue_filter.search, "search"))
    if queue_filter.unassigned:
        queryset = queryset.filter(assigned_to_id__isnull=True)
    elif queue_filter.assignee_id is not None:
        queryset = queryset.filter(assigned_to_id=queue_filter.assignee_id)
    return queryset


# ---------------------------------------------------------------- counts


@dataclass(frozen=True, slots=True)
class FeedbackStats:
    total: int
    by_status: dict[FeedbackStatus, int]
    by_kind: dict[FeedbackKind, int]


async def feedback_stats(
    created_after: datetime | None = None, created_before: datetime | None = None
) -> FeedbackStats:
    """Counts by status and by kind (every status and kind, zeros included);
    no personal data, for every staff role."""
    queryset = FeedbackMessage.all()
    if created_after is not None:
        queryset = queryset.filter(created_at__gte=created_after)
    if created_before is not None:
        queryset = queryset.filter(created_at__lt=created_before)
    rows = (
        await queryset.annotate(n=Count("id"))
        .group_by("feedback_status", "kind")
        .values("feedback_status", "kind", "n")
    )
    by_status = dict.fromkeys(FeedbackStatus, 0)
    by_kind = dict.fromkeys(FeedbackKind, 0)
    for row in rows:
        by_status[FeedbackStatus(row["feedback_status"])] += row["n"]
        by_kind[FeedbackKind(row["kind"])] += row["n"]
    return FeedbackStats(total=sum(by_status.values()), by_status=by_status, by_kind=by_kind)


# ---------------------------------------------------------------- changes


def revision_conflict(expected: int, actual: int) -> ValidationFailedError:
    return ValidationFailedError.one(
        ("input", "expectedRevision"),
        Code.CONFLICT,
        f"Обращение уже изменил кто-то другой (версия {actual}, а не {expected}). "
        "Обновите страницу и повторите.",
    )


async def _apply(
    message_id: int, expected_revision: int | None, changes: dict[str, object]
) -> FeedbackMessage:
    """Writes `changes` if the message is still at the revision the caller saw."""
    row = await FeedbackMessage.get_or_none(id=message_id)
    if row is None:
        raise ValidationFailedError.one(("input", "id"), Code.NOT_FOUND, "Обращение не найдено.")
    if expected_revision is not None and expected_revision != row.revision:
        raise revision_conflict(expected_revision, row.revision)
    # The revision in the WHERE clause makes a concurrent change lose, not overwrite.
    updated = await FeedbackMessage.filter(id=message_id, revision=row.revision).update(
        **changes, revision=row.revision + 1, updated_at=now()
    )
    if updated == 0:
        current = await FeedbackMessage.get_or_none(id=message_id)
        raise revision_conflict(row.revision, current.revision if current else row.revision)
    return await FeedbackMessage.get(id=message_id)


async def update_status(
    message_id: int,
    status: FeedbackStatus,
    *,
    staff_note: str | None = None,
    expected_revision: int | None = None,
) -> FeedbackMessage:
    """A new status; `staff_note` replaces the note when given ("" clears it)."""
    check = Checker()
    changes: dict[str, object] = {"feedback_status": status}
    if staff_note is not None:
        changes["staff_note"] = check.text(
            staff_note,
            ("input", "staffNote"),
            max_length=MAX_STAFF_NOTE_LENGTH,
            multiline=True,
            label="заметка",
        )
    check.raise_if_any()
    return await _apply(message_id, expected_revision, changes)


async def assign(
    message_id: int, assignee_id: int | None, *, expected_revision: int | None = None
) -> FeedbackMessage:
    """Gives the message to a staff member who can read it, or takes it back (None)."""
    if assignee_id is not None:
        user = await User.get_or_none(id=assignee_id)
        if user is None or not user.is_active:
            raise ValidationFailedError.one(
                ("input", "assignee"), Code.NOT_FOUND, "Такого сотрудника нет."
            )
        if not allowed(Viewer(user_id=user.pk, role=user.role), Action.READ_FEEDBACK):
            raise ValidationFailedError(
                [
                    FieldError(
                        ("input", "assignee"),
                        Code.INVALID,
                        "Назначить обращение можно только редактору или администратору: "
                        "у других нет доступа к персональным данным.",
                    )
                ]
            )
    return await _apply(message_id, expected_revision, {"assigned_to_id": assignee_id})
