"""The staff queue of appeals: by deadline, overdue, due within N days; the daily
overdue report (`python -m cms appeals-overdue`)."""

from __future__ import annotations

from datetime import timedelta

from cms.db import count_statements
from cms.services.appeals import workflow
from cms.services.appeals.queue import overdue_lines
from cms.services.visibility import now
from tests.appeals.conftest import APPEAL_FIELDS, at, make_appeal
from tests.conftest import GraphQLClient, TestDatabase, make_settings
from tests.editing.helpers import sign_in
from tests.feedback.test_privacy import cms_command

QUEUE = f"""
query($overdue: Boolean!, $within: Int, $order: AppealOrder!, $state: AppealState) {{
  appeals(overdue: $overdue, dueWithinDays: $within, orderBy: $order, state: $state) {{
    totalCount edges {{ node {{ {APPEAL_FIELDS} message {{ name }} }} }}
  }}
}}
"""
# Weekends only: the deadlines below do not depend on the holidays of the day the
# tests run.
CALENDAR = {"CMS_APPEAL_CALENDAR": "weekends"}


async def _queue(client: GraphQLClient, **variables: object) -> list[dict[str, object]]:
    values = {"overdue": False, "within": None, "order": "DEADLINE", "state": None, **variables}
    data = await client.data(QUEUE, values)
    return [edge["node"] for edge in data["appeals"]["edges"]]


async def test_the_queue_by_deadline_overdue_and_due_soon(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    settings = make_settings(db.url, **CALENDAR)
    moment = now()
    late = await make_appeal(settings, moment - timedelta(days=40), ticket="T-late")
    soon = await make_appeal(settings, moment - timedelta(days=28), ticket="T-soon")
    fresh = await make_appeal(settings, moment, ticket="T-fresh")
    answered_late = await make_appeal(settings, moment - timedelta(days=50), ticket="T-done")
    await workflow.answer(answered_late.pk, workflow.StepContext(None, settings), text="Ответ.")
    await sign_in(writer_client, "editor")
    by_deadline = await _queue(writer_client)
    assert [node["number"] for node in by_deadline] == [
        answered_late.number,
        late.number,
        soon.number,
        fresh.number,
    ]
    assert [node["overdue"] for node in by_deadline] == [False, True, False, False]
    assert by_deadline[1]["message"] == {"name": "Иван Петров"}
    overdue = await _queue(writer_client, overdue=True)
    assert [node["number"] for node in overdue] == [late.number]
    due_soon = await _queue(writer_client, within=5)
    assert [node["number"] for node in due_soon] == [soon.number]
    newest_first = await _queue(writer_client, order="RECEIVED_DESC")
    assert [node["number"] for node in newest_first] == [
        fresh.number,
        soon.number,
        late.number,
        answered_late.number,
    ]
    answered = await _queue(writer_client, state="ANSWERED")
    assert [node["number"] for node in answered] == [answered_late.number]
    # From a message, its appeal.
    messages = await writer_client.data(
        "{ feedbackMessages(kind: APPEAL) { edges { node { ticket appeal { number } } } } }"
    )
    by_ticket = {
        edge["node"]["ticket"]: edge["node"]["appeal"]["number"]
        for edge in messages["feedbackMessages"]["edges"]
    }
    assert by_ticket["T-late"] == late.number
    assert by_ticket["T-fresh"] == fresh.number


async def test_the_queue_refuses_a_bad_window_and_callers_without_access(
    writer_client: GraphQLClient,
) -> None:
    await sign_in(writer_client, "author")
    (error,) = await writer_client.errors(QUEUE, {"overdue": False, "order": "DEADLINE"})
    assert error["extensions"]["code"] == "FORBIDDEN"
    await sign_in(writer_client, "head")
    (error,) = await writer_client.errors(
        QUEUE, {"overdue": False, "order": "DEADLINE", "within": -1}
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "dueWithinDays" in error["message"]


async def test_the_daily_overdue_report(db: TestDatabase) -> None:
    settings = make_settings(db.url, CMS_APPEAL_REGISTRATION="manual", **CALENDAR)
    # Received Monday 2 March 2026, never registered: due Thursday 5 March.
    await make_appeal(settings, at("2026-03-02T01:00"), ticket="T-unregistered")
    auto = make_settings(db.url, **CALENDAR)
    # Registered Monday 2 February 2026: due Wednesday 4 March.
    late = await make_appeal(auto, at("2026-02-02T01:00"), ticket="T-late")
    # Registered Monday 9 February: due Wednesday 11 March.
    soon = await make_appeal(auto, at("2026-02-09T01:00"), ticket="T-soon")
    lines = await overdue_lines(settings, within=3, moment=at("2026-03-09T01:00"))
    assert lines[0] == "Обращения на 09.03.2026: просрочено 2, срок в ближайшие 3 дн. — 1."
    assert lines[2] == "Просроченные:"
    assert lines[3].split("\t") == [
        late.number,
        "registered",
        "ответ до 04.03.2026",
        "просрочено на 5 дн.",
        "-",
    ]
    assert lines[4].split("\t")[:4] == [
        "T-unregistered",
        "received",
        "регистрация до 05.03.2026",
        "просрочено на 4 дн.",
    ]
    assert lines[6] == "Срок подходит:"
    assert lines[7].split("\t")[:4] == [
        soon.number,
        "registered",
        "ответ до 11.03.2026",
        "осталось 2 дн.",
    ]
    # The command prints the same for today (these dates are long past by then).
    output = cms_command(db, "appeals-overdue", "--within", "3", **CALENDAR)
    assert "просрочено 3" in output.splitlines()[0]
    assert late.number in output
    assert "Иван" not in output
    assert "ivan.petrov" not in output


QUEUE_DEEP = """
query($first: Int) { appeals(first: $first) { totalCount edges { node {
  number overdue forwardDueOn
  message { name assignee { email } appeal { number } consentDocument { version } }
  history { action actor { email } attachments { fileName } }
} } } }
"""


async def test_the_queue_costs_the_same_statements_whatever_the_page_size(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    settings = make_settings(db.url, **CALENDAR)
    for n in range(12):
        appeal = await make_appeal(settings, now() - timedelta(days=n), ticket=f"T-{n}")
        await workflow.start_review(appeal.pk, workflow.StepContext(None, settings))
    await sign_in(writer_client, "editor")
    await writer_client.data("{ appeals(first: 1) { totalCount } }")  # the session's first use
    counts = []
    for first in (2, 10):
        with count_statements() as statements:
            data = await writer_client.data(QUEUE_DEEP, {"first": first})
        assert len(data["appeals"]["edges"]) == first
        counts.append(len(statements))
    assert counts[0] == counts[1]
    assert counts[0] == QUEUE_DEEP_STATEMENTS


# The viewer's session; the page and its count; the messages; the histories; the
# messages' appeals. Assignees, consent versions, actors and attachments cost nothing
# here: none is set on these appeals.
QUEUE_DEEP_STATEMENTS = 6
