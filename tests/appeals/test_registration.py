"""Registration: numbers in the office's pattern, automatic or manual, unique under
concurrency; the acknowledgement goes to the citizen through the outbox, once."""

from __future__ import annotations

import asyncio
import re

import pytest

from cms.models import Appeal, AppealEvent, AppealState, FeedbackMessage, FeedbackNotification
from cms.services.appeals.workflow import format_number
from cms.services.feedback.notifications import FeedbackMailer
from cms.settings import SettingsError
from tests.appeals.conftest import FixedClock, at, make_appeal, step
from tests.conftest import TestDatabase, make_settings
from tests.editing.helpers import sign_in
from tests.feedback.conftest import SmtpServer, feedback_app, form

SUBMIT = """
mutation($input: SubmitFeedbackInput!) {
  submitFeedback(input: $input) { ticket registrationNumber errors { field code message } }
}
"""
SMTP = {"CMS_FEEDBACK_NOTIFY_FROM": "portal@example.ru"}


async def test_an_appeal_is_registered_on_receipt_with_a_number_and_due_date(
    db: TestDatabase,
) -> None:
    async with feedback_app(db) as app:
        result = await app.client.post(SUBMIT, {"input": form(kind="APPEAL")})
    payload = result["data"]["submitFeedback"]
    assert payload["errors"] == []
    number = payload["registrationNumber"]
    assert re.fullmatch(r"ОГ-\d{4}-00001", number), number
    appeal = await Appeal.get(number=number)
    assert appeal.state is AppealState.REGISTERED
    assert appeal.registered_at == appeal.received_at
    assert appeal.due_on is not None
    assert appeal.deadline_on == appeal.due_on
    actions = (
        await AppealEvent.filter(appeal_id=appeal.pk)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert [str(action) for action in actions] == ["received", "registered"]


async def test_questions_and_spam_get_no_appeal(db: TestDatabase) -> None:
    async with feedback_app(db) as app:
        question = await app.client.post(SUBMIT, {"input": form(kind="QUESTION")})
        spam = await app.client.post(
            SUBMIT, {"input": form(kind="APPEAL", message="Другое", website="http://spam")}
        )
    assert question["data"]["submitFeedback"]["registrationNumber"] is None
    assert spam["data"]["submitFeedback"]["registrationNumber"] is None
    assert await Appeal.all().count() == 0


async def test_the_number_pattern_is_configurable(db: TestDatabase) -> None:
    async with feedback_app(db, CMS_APPEAL_NUMBER_PATTERN="{seq}/{year}-ДВФО") as app:
        result = await app.client.post(SUBMIT, {"input": form(kind="APPEAL")})
    number = result["data"]["submitFeedback"]["registrationNumber"]
    assert re.fullmatch(r"1/\d{4}-ДВФО", number), number


@pytest.mark.parametrize(
    "pattern", ["ОГ-{seq}", "ОГ-{year}", "{year}-{seq}-{name}", "{year}-{seq:q}", "{year-{seq}"]
)
def test_a_pattern_without_year_and_sequence_is_refused(pattern: str) -> None:
    with pytest.raises(SettingsError, match="CMS_APPEAL_NUMBER_PATTERN"):
        make_settings("sqlite://:memory:", CMS_APPEAL_NUMBER_PATTERN=pattern)


def test_format_number_pads_the_sequence() -> None:
    settings = make_settings("sqlite://:memory:")
    assert format_number(settings, 2026, 42) == "ОГ-2026-00042"


async def test_manual_registration_by_staff(db: TestDatabase, smtp_server: SmtpServer) -> None:
    environ = {"CMS_APPEAL_REGISTRATION": "manual", "CMS_SMTP_URL": smtp_server.url, **SMTP}
    settings = make_settings(db.url, **environ)
    appeal = await make_appeal(settings, at("2026-03-02T01:00"))
    assert appeal.state is AppealState.RECEIVED
    assert appeal.number is None
    # Received on Monday 2 March (Vladivostok): registered within 3 days, by Thursday.
    assert appeal.registration_due_on.isoformat() == "2026-03-05"
    assert appeal.deadline_on == appeal.registration_due_on
    assert await FeedbackNotification.filter(event_id__isnull=False).count() == 0
    async with feedback_app(db, **environ) as app:
        editor = await sign_in(app.client, "editor")
        payload = await step(
            app.client,
            "registerAppeal",
            "AppealStepInput",
            {"id": f"{_global(appeal.pk)}", "comment": "Зарегистрировано вручную"},
        )
    assert payload["errors"] == []
    registered = payload["appeal"]
    assert registered["state"] == "REGISTERED"
    assert re.fullmatch(r"ОГ-2026-00001", registered["number"])
    assert registered["history"][-1]["actor"] == {"email": editor.email}
    assert registered["history"][-1]["noticeQueued"] is True
    assert registered["forwardDueOn"] is not None
    # The acknowledgement, mailed once however often the outbox is looked at.
    mailer = FeedbackMailer(settings)
    assert (await mailer.deliver_due()).sent == 1
    assert (await mailer.deliver_due()).sent == 0
    (envelope,) = smtp_server.recorder.received
    assert envelope.rcpt_tos == ["ivan.petrov@example.ru"]
    (mail,) = smtp_server.recorder.messages()
    assert registered["number"] in str(mail["Subject"])
    body = mail.get_content()
    assert registered["number"] in body
    due = registered["dueOn"]
    assert f"{due[8:10]}.{due[5:7]}.{due[0:4]}" in body
    # Registering again is refused: it has a number.
    async with feedback_app(db, **environ) as app:
        await sign_in(app.client, "editor")
        again = await step(
            app.client, "registerAppeal", "AppealStepInput", {"id": registered["id"]}
        )
    assert [error["code"] for error in again["errors"]] == ["INVALID"]


async def test_an_acknowledgement_is_queued_once_with_the_submission(
    db: TestDatabase, smtp_server: SmtpServer
) -> None:
    environ = {"CMS_SMTP_URL": smtp_server.url, **SMTP}
    async with feedback_app(db, **environ) as app:
        first = await app.client.post(SUBMIT, {"input": form(kind="APPEAL")})
        # A double click: the same appeal, not a second one, and no second notice.
        again = await app.client.post(SUBMIT, {"input": form(kind="APPEAL")})
    number = first["data"]["submitFeedback"]["registrationNumber"]
    assert again["data"]["submitFeedback"]["registrationNumber"] == number
    assert await FeedbackNotification.filter(event_id__isnull=False).count() == 1
    mailer = FeedbackMailer(make_settings(db.url, **environ), clock=FixedClock(at("2100-01-01")))
    assert (await mailer.deliver_due()).sent == 1
    (mail,) = smtp_server.recorder.messages()
    assert number in mail.get_content()


async def test_no_notice_without_an_e_mail_address(
    db: TestDatabase, smtp_server: SmtpServer
) -> None:
    settings = make_settings(db.url, CMS_SMTP_URL=smtp_server.url)
    appeal = await make_appeal(settings, at("2026-03-02T01:00"), email=None)
    event = await AppealEvent.get(appeal_id=appeal.pk, action="registered")
    assert event.details["notice"] == "not_sent"
    assert await FeedbackNotification.all().count() == 0


APPEALS = 200


async def test_concurrent_appeals_get_distinct_consecutive_numbers(db: TestDatabase) -> None:
    async with feedback_app(db) as app:
        results = await asyncio.gather(
            *(
                app.client.post(
                    SUBMIT,
                    {
                        "input": form(
                            kind="APPEAL",
                            email=f"citizen{n}@example.ru",
                            phone=None,
                            message=f"Обращение номер {n}",
                        )
                    },
                    **{"x-test-peer": f"10.30.{n // 250}.{n % 250 + 1}"},
                )
                for n in range(APPEALS)
            )
        )
    payloads = [result["data"]["submitFeedback"] for result in results]
    assert [payload["errors"] for payload in payloads] == [[]] * APPEALS
    numbers = [payload["registrationNumber"] for payload in payloads]
    assert len(set(numbers)) == APPEALS
    assert sorted(int(number.rsplit("-", 1)[1]) for number in numbers) == list(
        range(1, APPEALS + 1)
    )
    # Each number belongs to the appeal of that submission's own text.
    stored = dict(await Appeal.all().values_list("number", "message__message"))
    assert all(stored[numbers[n]] == f"Обращение номер {n}" for n in range(APPEALS))
    assert await FeedbackMessage.filter(kind="appeal").count() == APPEALS


def _global(pk: int) -> str:
    from graphql_schema.relay import global_id

    return str(global_id("Appeal", pk))
