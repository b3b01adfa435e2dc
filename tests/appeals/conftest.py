"""Helpers of the appeals tests: appeals made at a fixed moment, the staff's steps
over GraphQL, fixed clocks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from cms.models import Appeal, FeedbackKind, FeedbackMessage
from cms.services.appeals import workflow
from cms.settings import Settings
from tests.conftest import GraphQLClient
from tests.feedback.conftest import smtp_server  # noqa: F401 - the fixture, for these tests too

E = "errors { field code message }"
APPEAL_FIELDS = (
    "id number state receivedAt registrationDueOn registeredAt dueOn deadlineOn overdue "
    "forwardDueOn "
    "extendedDays extensionReason closedAt noAnswerReason forwardedTo revision"
)
HISTORY = (
    "history { action fromState toState comment letter dueOn extensionDays forwardedTo "
    "noAnswerReason noticeQueued actor { email } attachments { id fileName } }"
)


class FixedClock:
    def __init__(self, moment: datetime) -> None:
        self.now = moment

    def __call__(self) -> datetime:
        return self.now


def at(text: str) -> datetime:
    """A UTC moment from '2026-03-02T10:00'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def make_appeal(
    settings: Settings,
    moment: datetime,
    *,
    email: str | None = "ivan.petrov@example.ru",
    phone: str | None = "+79161234567",
    ticket: str | None = None,
) -> Appeal:
    """An appeal received at `moment`, as the submission stores it (registered at once
    when the settings say auto)."""
    async with in_transaction() as connection:
        message = await FeedbackMessage.create(
            ticket=ticket or f"T-{moment.timestamp():.0f}-{id(moment) % 100000}",
            kind=FeedbackKind.APPEAL,
            name="Иван Петров",
            email=email,
            phone=phone,
            message="Прошу разъяснить порядок получения участка в ТОР.",
            consent_at=moment,
            using_db=connection,
        )
        return await workflow.receive(connection, message, settings, moment)


async def step(
    client: GraphQLClient, mutation: str, input_type: str, values: dict[str, Any]
) -> dict[str, Any]:
    """The payload of an appeal mutation: {appeal, errors}."""
    document = (
        f"mutation($input: {input_type}!) {{ {mutation}(input: $input) "
        f"{{ appeal {{ {APPEAL_FIELDS} {HISTORY} }} {E} }} }}"
    )
    result = await client.post(document, {"input": values})
    assert "errors" not in result, result
    return result["data"][mutation]
