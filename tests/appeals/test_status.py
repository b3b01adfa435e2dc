"""The citizen's status check: state and due date only, when both the number and the
contact match; the same answer for a wrong number and a wrong contact; rate-limited;
never cached."""

from __future__ import annotations

import json

from cms.services.appeals import workflow
from tests.appeals.conftest import at, make_appeal
from tests.conftest import TestDatabase, make_settings
from tests.feedback.conftest import feedback_app

STATUS = """
query($number: String!, $contact: String!) {
  appealStatus(number: $number, contact: $contact) { state dueOn }
}
"""


async def test_the_status_when_number_and_contact_match(db: TestDatabase) -> None:
    settings = make_settings(db.url)
    appeal = await make_appeal(settings, at("2026-03-02T01:00"))
    other = await make_appeal(
        settings, at("2026-03-02T02:00"), email="olga@example.ru", phone=None, ticket="T-olga"
    )
    async with feedback_app(db) as app:
        by_email = await app.client.post(
            STATUS, {"number": appeal.number, "contact": " IVAN.PETROV@example.ru "}
        )
        by_phone = await app.client.post(
            STATUS, {"number": appeal.number, "contact": "8 (916) 123-45-67"}
        )
        wrong_contact = await app.client.post(
            STATUS, {"number": appeal.number, "contact": "olga@example.ru"}
        )
        wrong_number = await app.client.post(
            STATUS, {"number": "ОГ-2026-99999", "contact": "ivan.petrov@example.ru"}
        )
        someone_elses = await app.client.post(
            STATUS, {"number": other.number, "contact": "ivan.petrov@example.ru"}
        )
        response = await app.client.http.post(
            "/graphql",
            json={
                "query": STATUS,
                "variables": {"number": appeal.number, "contact": "ivan.petrov@example.ru"},
            },
        )
        bad_contact = await app.client.post(
            STATUS, {"number": appeal.number, "contact": "не контакт"}
        )
    expected = {"appealStatus": {"state": "REGISTERED", "dueOn": "2026-04-01"}}
    assert by_email["data"] == expected
    assert by_phone["data"] == expected
    # Whatever is wrong, the answer is the same: nothing tells a number exists.
    assert wrong_contact == wrong_number == someone_elses
    assert wrong_contact["data"] == {"appealStatus": None}
    assert "errors" not in wrong_contact
    assert "no-store" in response.headers["cache-control"]
    assert bad_contact["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_the_status_follows_the_workflow(db: TestDatabase) -> None:
    settings = make_settings(db.url)
    appeal = await make_appeal(settings, at("2026-03-02T01:00"))
    await workflow.answer(appeal.pk, workflow.StepContext(None, settings), text="Ответ")
    async with feedback_app(db) as app:
        result = await app.client.data(STATUS, {"number": appeal.number, "contact": "+79161234567"})
    assert result == {"appealStatus": {"state": "ANSWERED", "dueOn": "2026-04-01"}}


async def test_status_checks_are_rate_limited(db: TestDatabase) -> None:
    appeal = await make_appeal(make_settings(db.url), at("2026-03-02T01:00"))
    async with feedback_app(db, CMS_APPEAL_STATUS_LIMIT="3/3600") as app:
        answers = [
            await app.client.post(
                STATUS,
                {"number": f"ОГ-2026-0000{n}", "contact": "x@example.ru"},
                **{"x-test-peer": "10.40.0.1"},
            )
            for n in range(3)
        ]
        refused = await app.client.post(
            STATUS,
            {"number": appeal.number, "contact": "ivan.petrov@example.ru"},
            **{"x-test-peer": "10.40.0.1"},
        )
        # Another address may still ask.
        elsewhere = await app.client.post(
            STATUS,
            {"number": appeal.number, "contact": "ivan.petrov@example.ru"},
            **{"x-test-peer": "10.40.0.2"},
        )
        # Guessing contacts for one number from many addresses is limited per number too.
        for n in range(2):
            await app.client.post(
                STATUS,
                {"number": appeal.number, "contact": f"guess{n}@example.ru"},
                **{"x-test-peer": f"10.41.0.{n + 1}"},
            )
        by_number = await app.client.post(
            STATUS,
            {"number": appeal.number, "contact": "ivan.petrov@example.ru"},
            **{"x-test-peer": "10.42.0.1"},
        )
    assert all(answer["data"] == {"appealStatus": None} for answer in answers)
    (error,) = refused["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfter"] > 0
    assert elsewhere["data"]["appealStatus"]["state"] == "REGISTERED"
    assert by_number["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_the_status_is_never_cached(db: TestDatabase) -> None:
    settings = make_settings(db.url)
    appeal = await make_appeal(settings, at("2026-03-02T01:00"))
    params = {
        "query": STATUS,
        "variables": json.dumps({"number": appeal.number, "contact": "+79161234567"}),
    }
    async with feedback_app(db, CMS_RESPONSE_CACHE="on") as app:
        first = await app.client.http.get("/graphql", params=params)
        await workflow.answer(appeal.pk, workflow.StepContext(None, settings), text="Ответ")
        second = await app.client.http.get("/graphql", params=params)
    assert first.json()["data"]["appealStatus"]["state"] == "REGISTERED"
    assert "no-store" in first.headers["cache-control"]
    assert second.json()["data"]["appealStatus"]["state"] == "ANSWERED"
