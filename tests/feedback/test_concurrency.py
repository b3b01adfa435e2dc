"""Many submissions at the same moment: every one stored, every ticket distinct."""

from __future__ import annotations

import asyncio

from cms.models import FeedbackMessage
from tests.conftest import TestDatabase
from tests.feedback.conftest import feedback_app, submit

SUBMISSIONS = 200


async def test_concurrent_submissions_from_distinct_addresses_all_land(
    db: TestDatabase,
) -> None:
    async with feedback_app(db) as app:
        payloads = await asyncio.gather(
            *(
                submit(
                    app.client,
                    peer=f"10.20.{n // 250}.{n % 250 + 1}",
                    email=f"citizen{n}@example.ru",
                    phone=None,
                    message=f"Вопрос номер {n}",
                )
                for n in range(SUBMISSIONS)
            )
        )
    assert [payload["errors"] for payload in payloads] == [[]] * SUBMISSIONS
    tickets = [payload["ticket"] for payload in payloads]
    assert len(set(tickets)) == SUBMISSIONS
    stored = await FeedbackMessage.all().values_list("ticket", "message")
    assert len(stored) == SUBMISSIONS
    assert {ticket for ticket, _ in stored} == set(tickets)
    # Each answer names the row holding that submission's own text.
    by_ticket = dict(stored)
    assert all(
        by_ticket[payload["ticket"]] == f"Вопрос номер {n}" for n, payload in enumerate(payloads)
    )
    # Numbers are consecutive: no number was given twice or lost.
    assert sorted(int(ticket.rsplit("-", 1)[1]) for ticket in tickets) == list(
        range(1, SUBMISSIONS + 1)
    )
