"""The staff's queue of appeals: by deadline, overdue, due within N days.

Who may read it is checked by the API (READ_FEEDBACK); `visible()` hides every
appeal from anyone else as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tortoise.queryset import QuerySet

from cms.errors import InvalidArgumentError
from cms.models import Appeal, AppealState
from cms.models.appeals import OPEN_STATES
from cms.services.appeals.deadlines import office_date
from cms.services.pagination import Ordering, SortKey
from cms.services.viewer import Viewer
from cms.services.visibility import now, visible
from cms.settings import Settings

BY_DEADLINE = Ordering(
    "appeals:deadline_asc", (SortKey("deadline_on", "date"), SortKey("id", "int"))
)
BY_RECEIVED = Ordering(
    "appeals:received_desc",
    (SortKey("received_at", "datetime", True), SortKey("id", "int", True)),
)
MAX_WITHIN_DAYS = 366


@dataclass(frozen=True, slots=True)
class AppealFilter:
    state: AppealState | None = None
    # Open appeals whose running deadline (registration, then answer) has passed.
    overdue: bool = False
    # Open appeals due today or within this many days (not overdue ones).
    due_within_days: int | None = None
    number: str | None = None


def today(settings: Settings, moment: datetime | None = None) -> date:
    return office_date(settings, moment or now())


def appeals_queryset(
    viewer: Viewer, appeal_filter: AppealFilter, settings: Settings, moment: datetime | None = None
) -> QuerySet[Appeal]:
    queryset = visible(Appeal, viewer)
    if appeal_filter.state is not None:
        queryset = queryset.filter(state=appeal_filter.state)
    current = today(settings, moment)
    if appeal_filter.overdue or appeal_filter.due_within_days is not None:
        queryset = queryset.filter(state__in=list(OPEN_STATES))
    if appeal_filter.overdue:
        queryset = queryset.filter(deadline_on__lt=current)
    if appeal_filter.due_within_days is not None:
        days = appeal_filter.due_within_days
        if not 0 <= days <= MAX_WITHIN_DAYS:
            raise InvalidArgumentError(
                "dueWithinDays", f"dueWithinDays: от 0 до {MAX_WITHIN_DAYS}, а не {days}."
            )
        queryset = queryset.filter(
            deadline_on__gte=current, deadline_on__lte=current + timedelta(days=days)
        )
    if appeal_filter.number is not None and appeal_filter.number.strip():
        queryset = queryset.filter(number=appeal_filter.number.strip())
    return queryset


async def overdue_lines(
    settings: Settings, *, within: int, moment: datetime | None = None
) -> list[str]:
    """The daily report for the head: open appeals past their deadline, then those due
    within `within` days; numbers, states, dates and assignees, no citizen's data."""
    current = today(settings, moment)
    rows = (
        await Appeal.filter(
            state__in=list(OPEN_STATES), deadline_on__lte=current + timedelta(days=within)
        )
        .order_by("deadline_on", "id")
        .values(
            "number",
            "state",
            "received_at",
            "deadline_on",
            "message__ticket",
            "message__assigned_to__email",
        )
    )
    late = [row for row in rows if row["deadline_on"] < current]
    soon = [row for row in rows if row["deadline_on"] >= current]

    def line(row: dict[str, object]) -> str:
        deadline_on = row["deadline_on"]
        assert isinstance(deadline_on, date)
        state = AppealState(str(row["state"]))
        what = "регистрация" if state is AppealState.RECEIVED else "ответ"
        delta = (current - deadline_on).days
        when = f"просрочено на {delta} дн." if delta > 0 else f"осталось {-delta} дн."
        return (
            f"{row['number'] or row['message__ticket']}\t{state.value}\t{what} до "
            f"{deadline_on:%d.%m.%Y}\t{when}\t{row['message__assigned_to__email'] or '-'}"
        )

    lines = [
        f"Обращения на {current:%d.%m.%Y}: просрочено {len(late)}, "
        f"срок в ближайшие {within} дн. — {len(soon)}."
    ]
    if late:
        lines += ["", "Просроченные:", *(line(row) for row in late)]
    if soon:
        lines += ["", "Срок подходит:", *(line(row) for row in soon)]
    return lines
