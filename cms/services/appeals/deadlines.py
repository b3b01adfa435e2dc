"""Deadlines of an appeal, in the office's calendar days.

59-FZ counts in calendar days: an appeal is registered within 3 days of its
receipt (art. 8 p. 2) and answered within 30 days of its registration (art. 12
p. 1), or forwarded within 7 days of its registration to the body competent to
answer it (art. 8 p. 3); the head may extend the answer's deadline once by up to 30 days (art. 12
p. 2). A period counted in days starts the day after the event, so it ends on
the event's date plus the number of days. The law does not say what happens when
that day is not a working day; the common practice (Civil Code art. 193, which
courts apply by analogy) is followed: the deadline moves to the next working day.

Working days come from the Russian production calendar of the `holidays` package
(public holidays, the days off moved by the Government's decrees, and the
Saturdays made working days), or, with CMS_APPEAL_CALENDAR=weekends, are simply
Monday to Friday. Dates are those of the office's time zone (CMS_APPEAL_TIMEZONE):
an appeal received at 23:30 in Vladivostok is received that day, whatever UTC says.
"""

from __future__ import annotations

import functools
import zoneinfo
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from cms.settings import Settings

if TYPE_CHECKING:
    import holidays

# An appeal outside the office's competence is forwarded within 7 days of its
# registration (art. 8 p. 3).
FORWARD_DAYS = 7


@functools.cache
def _russian_calendar() -> holidays.HolidayBase:
    # Imported with the first deadline, not by every process that never counts one.
    import holidays

    # Years are filled in on demand by the package as dates are asked about.
    return holidays.country_holidays("RU")


def is_working_day(settings: Settings, day: date) -> bool:
    if settings.appeal_calendar == "weekends":
        return day.weekday() < 5
    return bool(_russian_calendar().is_working_day(day))


def next_working_day(settings: Settings, day: date) -> date:
    """`day` itself when it is a working day, else the first working day after it."""
    while not is_working_day(settings, day):
        day += timedelta(days=1)
    return day


def office_date(settings: Settings, moment: datetime) -> date:
    """The calendar date of `moment` in the office's time zone."""
    return moment.astimezone(zoneinfo.ZoneInfo(settings.appeal_timezone)).date()


def deadline(settings: Settings, start: date, days: int) -> date:
    """The last day of a period of `days` calendar days starting after `start`,
    moved to the next working day when it is not one."""
    return next_working_day(settings, start + timedelta(days=days))


def registration_due(settings: Settings, received_at: datetime) -> date:
    return deadline(settings, office_date(settings, received_at), settings.appeal_registration_days)


def answer_due(settings: Settings, registered_at: datetime) -> date:
    return deadline(settings, office_date(settings, registered_at), settings.appeal_answer_days)


def forward_due(settings: Settings, registered_at: datetime) -> date:
    return deadline(settings, office_date(settings, registered_at), FORWARD_DAYS)


def extended_due(settings: Settings, due_on: date, days: int) -> date:
    """The due date after an extension by `days`, counted from the current due date."""
    return deadline(settings, due_on, days)
