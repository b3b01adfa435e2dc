"""Reports on appeals for a period: counts by state and by month, overdue ones,
the average time to answer. No personal data: for every staff role that may
count feedback. Appeals are counted by the date they were received."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from cms.models import Appeal, AppealState
from cms.models.appeals import OPEN_STATES
from cms.services.appeals.deadlines import office_date
from cms.services.appeals.queue import today
from cms.settings import Settings


@dataclass(frozen=True, slots=True)
class MonthCount:
    month: str  # "2026-03"
    received: int
    answered: int  # of those received that month, answered by now


@dataclass(frozen=True, slots=True)
class AppealReport:
    received_after: datetime | None
    received_before: datetime | None
    total: int
    by_state: dict[AppealState, int]
    by_month: list[MonthCount]
    overdue: int  # open now, past their running deadline
    answered_late: int  # answered after the due date
    average_days_to_answer: float | None  # registration to answer, calendar days


async def appeal_report(
    settings: Settings,
    received_after: datetime | None = None,
    received_before: datetime | None = None,
    moment: datetime | None = None,
) -> AppealReport:
    queryset = Appeal.all()
    if received_after is not None:
        queryset = queryset.filter(received_at__gte=received_after)
    if received_before is not None:
        queryset = queryset.filter(received_at__lt=received_before)
    rows = await queryset.values(
        "state", "received_at", "registered_at", "closed_at", "deadline_on", "due_on"
    )
    current = today(settings, moment)
    by_state = dict.fromkeys(AppealState, 0)
    received: Counter[str] = Counter()
    answered: Counter[str] = Counter()
    overdue = late = 0
    answer_days: list[int] = []
    for row in rows:
        state = AppealState(row["state"])
        by_state[state] += 1
        month = office_date(settings, row["received_at"]).strftime("%Y-%m")
        received[month] += 1
        if state in OPEN_STATES and row["deadline_on"] < current:
            overdue += 1
        if state is AppealState.ANSWERED and row["closed_at"] is not None:
            answered[month] += 1
            closed_on: date = office_date(settings, row["closed_at"])
            if row["due_on"] is not None and closed_on > row["due_on"]:
                late += 1
            if row["registered_at"] is not None:
                answer_days.append((closed_on - office_date(settings, row["registered_at"])).days)
    return AppealReport(
        received_after=received_after,
        received_before=received_before,
        total=len(rows),
        by_state=by_state,
        by_month=[
            MonthCount(month=month, received=received[month], answered=answered[month])
            for month in sorted(received)
        ],
        overdue=overdue,
        answered_late=late,
        average_days_to_answer=(
            round(sum(answer_days) / len(answer_days), 1) if answer_days else None
        ),
    )


def report_csv(report: AppealReport) -> str:
    """The report as CSV rows: section, key, value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "key", "value"])
    writer.writerow(["total", "", report.total])
    for state, count in report.by_state.items():
        writer.writerow(["state", state.value, count])
    for month in report.by_month:
        writer.writerow(["received_in_month", month.month, month.received])
        writer.writerow(["answered_of_month", month.month, month.answered])
    writer.writerow(["overdue", "", report.overdue])
    writer.writerow(["answered_late", "", report.answered_late])
    average = report.average_days_to_answer
    writer.writerow(["average_days_to_answer", "", "" if average is None else average])
    return out.getvalue()
