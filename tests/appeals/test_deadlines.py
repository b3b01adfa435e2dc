"""Deadlines with fixed clocks: registration (3 days), answer (30 days from
registration), a due date on a non-working day (moved to the next working day),
the office's time zone, the extension (once, up to 30 days, with a reason)."""

from __future__ import annotations

from datetime import date

import pytest

from cms.errors import ValidationFailedError
from cms.models import AppealState, FeedbackNotification
from cms.services.appeals import workflow
from cms.services.appeals.deadlines import (
    answer_due,
    extended_due,
    forward_due,
    is_working_day,
    office_date,
    registration_due,
)
from cms.services.feedback.notifications import FeedbackMailer
from tests.appeals.conftest import FixedClock, at, make_appeal
from tests.conftest import TestDatabase, make_settings
from tests.feedback.conftest import SmtpServer

RU = make_settings("sqlite://:memory:")
WEEKENDS = make_settings("sqlite://:memory:", CMS_APPEAL_CALENDAR="weekends")


def test_the_office_date_is_the_office_time_zone() -> None:
    # 15:30 UTC on 1 March is 01:30 on 2 March in Vladivostok (UTC+10).
    assert office_date(RU, at("2026-03-01T15:30")) == date(2026, 3, 2)
    moscow = make_settings("sqlite://:memory:", CMS_APPEAL_TIMEZONE="Europe/Moscow")
    assert office_date(moscow, at("2026-03-01T15:30")) == date(2026, 3, 1)


def test_answer_due_thirty_calendar_days_after_registration() -> None:
    # Registered Monday 2 March 2026: the 30th day is Wednesday 1 April, a working day.
    assert answer_due(RU, at("2026-03-02T01:00")) == date(2026, 4, 1)


def test_a_due_date_on_a_weekend_moves_to_the_next_working_day() -> None:
    # Registered Thursday 5 March 2026: the 30th day is Saturday 4 April -> Monday 6 April.
    assert answer_due(RU, at("2026-03-05T01:00")) == date(2026, 4, 6)
    assert answer_due(WEEKENDS, at("2026-03-05T01:00")) == date(2026, 4, 6)


def test_a_due_date_on_a_public_holiday_moves_past_it() -> None:
    # Registered 2 December 2025: the 30th day is 1 January 2026; the New Year holidays
    # and the moved day off (9 January), then the weekend: Monday 12 January.
    assert answer_due(RU, at("2025-12-02T01:00")) == date(2026, 1, 12)
    # With weekends only, 1 January 2026 (a Thursday) is a working day.
    assert answer_due(WEEKENDS, at("2025-12-02T01:00")) == date(2026, 1, 1)


def test_a_saturday_made_a_working_day_counts_as_one() -> None:
    # 1 November 2025 was a working Saturday by the Government's decree.
    assert is_working_day(RU, date(2025, 11, 1))
    assert not is_working_day(WEEKENDS, date(2025, 11, 1))
    assert not is_working_day(RU, date(2025, 11, 3))  # the day off moved from it


def test_registration_due_three_days_after_receipt() -> None:
    # Received Wednesday 4 March: the 3rd day is Saturday 7 March; 8 March is Sunday and a
    # holiday, moved to Monday 9 March: Tuesday 10 March.
    assert registration_due(RU, at("2026-03-04T01:00")) == date(2026, 3, 10)
    assert registration_due(WEEKENDS, at("2026-03-04T01:00")) == date(2026, 3, 9)


def test_the_extension_counts_from_the_current_due_date() -> None:
    # Due Wednesday 1 April + 30 days = Friday 1 May, a holiday -> Monday 4 May.
    assert extended_due(RU, date(2026, 4, 1), 30) == date(2026, 5, 4)
    assert extended_due(WEEKENDS, date(2026, 4, 1), 30) == date(2026, 5, 1)


def test_forwarding_due_seven_days_after_registration() -> None:
    # Registered Monday 2 March 2026: 9 March is the day off moved from 8 March -> 10 March.
    assert forward_due(RU, at("2026-03-02T01:00")) == date(2026, 3, 10)
    assert forward_due(WEEKENDS, at("2026-03-02T01:00")) == date(2026, 3, 9)


def test_the_answer_period_is_configurable() -> None:
    settings = make_settings("sqlite://:memory:", CMS_APPEAL_ANSWER_DAYS="15")
    assert answer_due(settings, at("2026-03-02T01:00")) == date(2026, 3, 17)


async def test_registration_sets_the_deadlines_with_a_fixed_clock(db: TestDatabase) -> None:
    settings = make_settings(db.url, CMS_APPEAL_REGISTRATION="manual")
    appeal = await make_appeal(settings, at("2026-03-04T01:00"))
    assert appeal.registration_due_on == date(2026, 3, 10)
    registered = await workflow.register(
        appeal.pk, workflow.StepContext(None, settings, FixedClock(at("2026-03-05T01:00")))
    )
    assert registered.registered_at == at("2026-03-05T01:00")
    assert registered.due_on == date(2026, 4, 6)  # the 30th day, 4 April, is a Saturday
    assert registered.deadline_on == registered.due_on


async def test_the_extension_once_with_a_reason_and_a_notice(
    db: TestDatabase, smtp_server: SmtpServer
) -> None:
    settings = make_settings(db.url, CMS_SMTP_URL=smtp_server.url)
    appeal = await make_appeal(settings, at("2026-03-02T01:00"))
    assert appeal.due_on == date(2026, 4, 1)
    context = workflow.StepContext(None, settings, FixedClock(at("2026-03-20T01:00")))
    with pytest.raises(ValidationFailedError) as refused:
        await workflow.extend(appeal.pk, context, days=31, reason="Запрос в министерство")
    assert [error.field for error in refused.value.errors] == [("input", "days")]
    with pytest.raises(ValidationFailedError) as refused:
        await workflow.extend(appeal.pk, context, days=10, reason="  ")
    assert [error.field for error in refused.value.errors] == [("input", "reason")]
    extended = await workflow.extend(
        appeal.pk, context, days=30, reason="Направлен запрос в министерство"
    )
    assert extended.due_on == date(2026, 5, 4)
    assert extended.deadline_on == date(2026, 5, 4)
    assert extended.extended_days == 30
    assert extended.extension_reason == "Направлен запрос в министерство"
    assert extended.state is AppealState.REGISTERED
    with pytest.raises(ValidationFailedError, match="уже продлевался"):
        await workflow.extend(appeal.pk, context, days=5, reason="Ещё раз")
    # The acknowledgement and the extension notice, each once.
    mailer = FeedbackMailer(settings, clock=FixedClock(at("2026-03-20T02:00")))
    assert (await mailer.deliver_due()).sent == 2
    assert (await mailer.deliver_due()).sent == 0
    assert await FeedbackNotification.filter(event_id__isnull=False).count() == 2
    bodies = [mail.get_content() for mail in smtp_server.recorder.messages()]
    assert "04.05.2026" in bodies[1]
    assert "Направлен запрос в министерство" in bodies[1]


async def test_a_closed_appeal_is_not_extended(db: TestDatabase) -> None:
    settings = make_settings(db.url)
    appeal = await make_appeal(settings, at("2026-03-02T01:00"))
    context = workflow.StepContext(None, settings, FixedClock(at("2026-03-03T01:00")))
    await workflow.answer(appeal.pk, context, text="Ответ по существу.")
    with pytest.raises(ValidationFailedError, match="Нельзя продлить срок"):
        await workflow.extend(appeal.pk, context, days=5, reason="Поздно")
