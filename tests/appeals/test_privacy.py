"""Erasure after an answer: the citizen's data goes, the appeal's registration data
stays (anonymised); the export shows the appeal and its history."""

from __future__ import annotations

from datetime import date

from cms.models import Appeal, AppealEvent, AppealState, FeedbackMessage
from cms.services.appeals import workflow
from cms.services.feedback import privacy
from tests.appeals.conftest import FixedClock, at, make_appeal
from tests.conftest import TestDatabase, make_settings


async def test_erasure_after_an_answer_keeps_the_registration_data(db: TestDatabase) -> None:
    settings = make_settings(db.url)
    appeal = await make_appeal(settings, at("2026-03-02T01:00"))
    context = workflow.StepContext(None, settings, FixedClock(at("2026-03-10T01:00")))
    await workflow.start_review(appeal.pk, context, comment="Петрову И. ответить письменно")
    await workflow.answer(appeal.pk, context, text="Уважаемый Иван Петрович! Сообщаем...")
    contact = privacy.parse_contact("ivan.petrov@example.ru", None)

    exported = await privacy.export_personal_data(contact)
    (message,) = exported["messages"]
    assert message["appeal"]["number"] == appeal.number
    assert message["appeal"]["state"] == "ANSWERED"
    assert [item["action"] for item in message["appeal"]["history"]] == [
        "RECEIVED",
        "REGISTERED",
        "REVIEW_STARTED",
        "ANSWERED",
    ]
    assert message["appeal"]["history"][3]["letter"].startswith("Уважаемый Иван Петрович")

    assert await privacy.erase_personal_data(contact) == [(await appeal.message).ticket]
    stored = await FeedbackMessage.get(id=appeal.message_id)  # type: ignore[attr-defined]
    assert stored.name == ""
    assert stored.email is None
    assert stored.message == ""
    assert stored.anonymized_at is not None
    kept = await Appeal.get(id=appeal.pk)
    assert kept.number == appeal.number
    assert kept.state is AppealState.ANSWERED
    assert kept.received_at == at("2026-03-02T01:00")
    assert kept.registered_at == at("2026-03-02T01:00")
    assert kept.due_on == date(2026, 4, 1)
    assert kept.closed_at == at("2026-03-10T01:00")
    events = await AppealEvent.filter(appeal_id=appeal.pk).order_by("id")
    assert [str(event.action) for event in events] == [
        "received",
        "registered",
        "review_started",
        "answered",
    ]
    assert all(event.comment is None for event in events)
    assert all(event.letter is None for event in events)
    # Nothing is stored under the contact any more.
    assert await privacy.erase_personal_data(contact) == []
