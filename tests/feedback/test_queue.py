"""The staff's work queue: who sees what, filters, status, notes, assignment, counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cms.db import count_statements
from cms.models import AuditEntry, FeedbackMessage, User
from graphql_schema.relay import global_id
from tests.conftest import GraphQLClient, TestDatabase, create_staff, login_as, use_api_token
from tests.feedback.conftest import submit

QUEUE = """
query($first: Int, $after: String, $last: Int, $before: String, $status: FeedbackStatus,
      $kind: FeedbackKind, $createdAfter: DateTime, $createdBefore: DateTime,
      $search: String, $assignee: ID, $unassigned: Boolean! = false) {
  feedbackMessages(first: $first, after: $after, last: $last, before: $before,
                   status: $status, kind: $kind, createdAfter: $createdAfter,
                   createdBefore: $createdBefore, search: $search, assignee: $assignee,
                   unassigned: $unassigned) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor startCursor }
    edges { node { id ticket kind name email phone subject message feedbackStatus
                   staffNote revision createdAt consentAt assignee { email } } }
  }
}
"""
STATS = """
query($createdAfter: DateTime) { feedbackStats(createdAfter: $createdAfter) {
  total byStatus { status count } byKind { kind count } } }
"""
UPDATE = """
mutation($input: UpdateFeedbackStatusInput!) { updateFeedbackStatus(input: $input) {
  message { id feedbackStatus staffNote revision } errors { field code message } } }
"""
ASSIGN = """
mutation($input: AssignFeedbackInput!) { assignFeedback(input: $input) {
  message { id revision assignee { email role } } errors { field code message } } }
"""
NODE = "query($id: ID!) { node(id: $id) { ... on FeedbackMessage { ticket email } } }"
PERSONAL = 'query { feedbackPersonalData(email: "ivan@example.ru") { messages { ticket } } }'
ERASE = 'mutation { eraseFeedbackPersonalData(input: {email: "ivan@example.ru"}) { tickets } }'


async def seed_messages(client: GraphQLClient) -> dict[str, str]:
    """Five messages from the public form (one of them spam): name -> ticket."""
    messages: list[dict[str, Any]] = [
        {"name": "Иван Петров", "email": "ivan@example.ru", "kind": "QUESTION"},
        {"name": "Пётр Сидоров", "email": "petr@example.ru", "kind": "APPEAL"},
        {"name": "Анна Ёлкина", "phone": "8 (4162) 55-00-11", "email": None, "kind": "PROPOSAL"},
        {"name": "Ольга Смирнова", "email": "olga@example.ru", "kind": "QUESTION"},
        {"name": "Бот", "email": "bot@example.ru", "website": "http://spam", "kind": "QUESTION"},
    ]
    tickets = {}
    for n, changes in enumerate(messages):
        changes.setdefault("phone", None)
        payload = await submit(client, peer=f"198.51.100.{n}", message=f"Текст {n}", **changes)
        assert payload["errors"] == []
        tickets[changes["name"]] = payload["ticket"]
    return tickets


async def message_id(ticket: str) -> str:
    return global_id("FeedbackMessage", (await FeedbackMessage.get(ticket=ticket)).pk)


# ---------------------------------------------------------------- who sees what


@pytest.mark.parametrize(
    ("caller", "code"),
    [
        (None, "UNAUTHENTICATED"),
        ("token:read", "FORBIDDEN"),
        ("token:read_drafts", "FORBIDDEN"),
        ("token:write", "FORBIDDEN"),
        ("viewer", "FORBIDDEN"),
        ("author", "FORBIDDEN"),
    ],
)
async def test_personal_data_is_closed_to_everyone_but_editors_and_admins(
    writer_client: GraphQLClient, db: TestDatabase, caller: str | None, code: str
) -> None:
    tickets = await seed_messages(writer_client)
    some_id = await message_id(tickets["Иван Петров"])
    if caller and caller.startswith("token:"):
        await use_api_token(writer_client, caller.split(":")[1])
    elif caller:
        await login_as(writer_client, caller)
    for query, variables in [
        (QUEUE, {}),
        (UPDATE, {"input": {"id": some_id, "status": "ANSWERED"}}),
        (ASSIGN, {"input": {"id": some_id}}),
        (PERSONAL, {}),
        (ERASE, {}),
    ]:
        errors = await writer_client.errors(query, variables)
        assert errors[0]["extensions"]["code"] == code, query
        assert "ivan@example.ru" not in str(errors)
    # node(id) finds nothing for them either.
    assert (await writer_client.data(NODE, {"id": some_id}))["node"] is None
    # Counts are for staff only: viewers and authors see them, tokens never.
    if caller in ("viewer", "author"):
        stats = (await writer_client.data(STATS))["feedbackStats"]
        assert stats["total"] == 5
        assert "ivan" not in str(stats)
    else:
        errors = await writer_client.errors(STATS)
        assert errors[0]["extensions"]["code"] == code
    row = await FeedbackMessage.get(ticket=tickets["Иван Петров"])
    assert (row.feedback_status, row.assigned_to_id) == ("new", None)  # type: ignore[attr-defined]


@pytest.mark.parametrize("role", ["editor", "admin"])
async def test_editors_and_admins_read_the_queue(
    writer_client: GraphQLClient, db: TestDatabase, role: str
) -> None:
    tickets = await seed_messages(writer_client)
    await login_as(writer_client, role)
    queue = (await writer_client.data(QUEUE))["feedbackMessages"]
    # Newest first, spam left out unless asked for.
    assert [edge["node"]["name"] for edge in queue["edges"]] == [
        "Ольга Смирнова",
        "Анна Ёлкина",
        "Пётр Сидоров",
        "Иван Петров",
    ]
    assert queue["totalCount"] == 4
    anna = queue["edges"][1]["node"]
    assert anna["phone"] == "+74162550011"
    assert anna["email"] is None
    assert anna["message"] == "Текст 2"
    assert anna["consentAt"] is not None
    node = (await writer_client.data(NODE, {"id": anna["id"]}))["node"]
    assert node == {"ticket": tickets["Анна Ёлкина"], "email": None}
    spam = (await writer_client.data(QUEUE, {"status": "SPAM"}))["feedbackMessages"]
    assert [edge["node"]["ticket"] for edge in spam["edges"]] == [tickets["Бот"]]


async def test_queue_filters_and_pages(writer_client: GraphQLClient, db: TestDatabase) -> None:
    tickets = await seed_messages(writer_client)
    # Ivan's message is from last week.
    week_ago = datetime.now(UTC) - timedelta(days=7)
    await FeedbackMessage.filter(ticket=tickets["Иван Петров"]).update(created_at=week_ago)
    await login_as(writer_client, "editor")

    async def names(**variables: Any) -> list[str]:
        queue = (await writer_client.data(QUEUE, variables))["feedbackMessages"]
        return [edge["node"]["name"] for edge in queue["edges"]]

    assert await names(kind="QUESTION") == ["Ольга Смирнова", "Иван Петров"]
    assert await names(kind="QUESTION", status="SPAM") == ["Бот"]
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert await names(createdBefore=yesterday) == ["Иван Петров"]
    assert "Иван Петров" not in await names(createdAfter=yesterday)
    # Full-text search (cms/services/fulltext.py), case- and ё-insensitive, over name,
    # contacts and text; the last word also as a prefix.
    assert await names(search="ЕЛКИНА") == ["Анна Ёлкина"]
    assert await names(search="petr@") == ["Пётр Сидоров"]
    assert await names(search="+74162") == ["Анна Ёлкина"]
    assert await names(search=tickets["Ольга Смирнова"].lower()) == ["Ольга Смирнова"]
    assert await names(search="текст 1") == ["Пётр Сидоров"]
    # Keyset pages both ways.
    first = (await writer_client.data(QUEUE, {"first": 3}))["feedbackMessages"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (await writer_client.data(QUEUE, {"first": 3, "after": first["pageInfo"]["endCursor"]}))[
        "feedbackMessages"
    ]
    assert [edge["node"]["name"] for edge in rest["edges"]] == ["Иван Петров"]
    back = (
        await writer_client.data(QUEUE, {"last": 2, "before": rest["pageInfo"]["startCursor"]})
    )["feedbackMessages"]
    assert [edge["node"]["name"] for edge in back["edges"]] == ["Анна Ёлкина", "Пётр Сидоров"]
    errors = await writer_client.errors(QUEUE, {"first": 500})
    assert errors[0]["extensions"]["argument"] == "first"


STATUSES = """
query($statuses: [FeedbackStatus!], $status: FeedbackStatus) {
  feedbackMessages(statuses: $statuses, status: $status) { totalCount edges { node { name } } }
}
"""


async def test_queue_of_several_statuses(writer_client: GraphQLClient, db: TestDatabase) -> None:
    tickets = await seed_messages(writer_client)
    await FeedbackMessage.filter(ticket=tickets["Иван Петров"]).update(feedback_status="answered")
    await login_as(writer_client, "editor")

    async def names(**variables: Any) -> list[str]:
        queue = (await writer_client.data(STATUSES, variables))["feedbackMessages"]
        return [edge["node"]["name"] for edge in queue["edges"]]

    assert await names(statuses=["ANSWERED", "SPAM"]) == ["Бот", "Иван Петров"]
    assert await names(statuses=["NEW", "NEW"]) == await names(status="NEW")
    assert len(await names(statuses=["NEW", "ANSWERED", "SPAM"])) == 5
    for variables in ({"statuses": []}, {"statuses": ["NEW"], "status": "NEW"}):
        errors = await writer_client.errors(STATUSES, variables)
        assert errors[0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "statuses"}


# ---------------------------------------------------------------- handling


async def test_status_and_staff_note_with_optimistic_locking(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    tickets = await seed_messages(writer_client)
    some_id = await message_id(tickets["Пётр Сидоров"])
    await login_as(writer_client, "editor")
    changed = (
        await writer_client.data(
            UPDATE,
            {
                "input": {
                    "id": some_id,
                    "status": "IN_PROGRESS",
                    "staffNote": "Позвонить\x07 в среду",
                    "expectedRevision": 1,
                }
            },
        )
    )["updateFeedbackStatus"]
    assert changed["errors"] == []
    assert changed["message"] == {
        "id": some_id,
        "feedbackStatus": "IN_PROGRESS",
        "staffNote": "Позвонить в среду",
        "revision": 2,
    }
    # Someone who saw revision 1 loses, with a clear conflict.
    stale = (
        await writer_client.data(
            UPDATE, {"input": {"id": some_id, "status": "ARCHIVED", "expectedRevision": 1}}
        )
    )["updateFeedbackStatus"]
    assert stale["message"] is None
    assert stale["errors"][0]["code"] == "CONFLICT"
    assert stale["errors"][0]["field"] == ["input", "expectedRevision"]
    # No note given keeps it; an empty one clears it.
    kept = (await writer_client.data(UPDATE, {"input": {"id": some_id, "status": "ANSWERED"}}))[
        "updateFeedbackStatus"
    ]["message"]
    assert (kept["feedbackStatus"], kept["staffNote"]) == ("ANSWERED", "Позвонить в среду")
    cleared = (
        await writer_client.data(
            UPDATE, {"input": {"id": some_id, "status": "ANSWERED", "staffNote": ""}}
        )
    )["updateFeedbackStatus"]["message"]
    assert cleared["staffNote"] is None
    too_long = (
        await writer_client.data(
            UPDATE, {"input": {"id": some_id, "status": "ANSWERED", "staffNote": "я" * 5001}}
        )
    )["updateFeedbackStatus"]
    assert too_long["errors"][0]["code"] == "TOO_LONG"
    missing = (
        await writer_client.data(
            UPDATE,
            {"input": {"id": global_id("FeedbackMessage", 99999), "status": "ANSWERED"}},
        )
    )["updateFeedbackStatus"]
    assert missing["errors"] == [
        {"field": ["input", "id"], "code": "NOT_FOUND", "message": "Обращение не найдено."}
    ]
    wrong_type = await writer_client.errors(
        UPDATE, {"input": {"id": global_id("News", 1), "status": "ANSWERED"}}
    )
    assert wrong_type[0]["extensions"]["code"] == "BAD_USER_INPUT"
    actions = (
        await AuditEntry.filter(action="updateFeedbackStatus")
        .order_by("id")
        .values_list("succeeded", "object_id")
    )
    assert actions[0] == (True, some_id)
    # changed, stale, kept, cleared, too long, missing, wrong type
    assert [ok for ok, _ in actions] == [True, False, True, True, False, False, False]


async def test_assignment_to_staff_who_may_read_it(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    tickets = await seed_messages(writer_client)
    some_id = await message_id(tickets["Иван Петров"])
    editor_email = await create_staff("editor", "handler@example.ru")
    viewer_email = await create_staff("viewer")
    editor = global_id("User", (await User.get(email=editor_email)).pk)
    viewer = global_id("User", (await User.get(email=viewer_email)).pk)
    await login_as(writer_client, "admin")
    assigned = (await writer_client.data(ASSIGN, {"input": {"id": some_id, "assignee": editor}}))[
        "assignFeedback"
    ]
    assert assigned["errors"] == []
    assert assigned["message"]["assignee"] == {"email": "handler@example.ru", "role": "EDITOR"}
    mine = (await writer_client.data(QUEUE, {"assignee": editor}))["feedbackMessages"]
    assert [edge["node"]["ticket"] for edge in mine["edges"]] == [tickets["Иван Петров"]]
    nobody = (await writer_client.data(QUEUE, {"unassigned": True}))["feedbackMessages"]
    assert nobody["totalCount"] == 3
    refused = (await writer_client.data(ASSIGN, {"input": {"id": some_id, "assignee": viewer}}))[
        "assignFeedback"
    ]
    assert refused["errors"][0]["code"] == "INVALID"
    assert refused["errors"][0]["field"] == ["input", "assignee"]
    unknown = (
        await writer_client.data(
            ASSIGN, {"input": {"id": some_id, "assignee": global_id("User", 99999)}}
        )
    )["assignFeedback"]
    assert unknown["errors"][0]["code"] == "NOT_FOUND"
    taken_back = (await writer_client.data(ASSIGN, {"input": {"id": some_id, "assignee": None}}))[
        "assignFeedback"
    ]
    assert taken_back["message"]["assignee"] is None
    assert taken_back["message"]["revision"] == 3


async def test_counts_by_status_and_kind(writer_client: GraphQLClient, db: TestDatabase) -> None:
    await seed_messages(writer_client)
    await login_as(writer_client, "viewer")
    stats = (await writer_client.data(STATS))["feedbackStats"]
    assert stats["total"] == 5
    assert {item["status"]: item["count"] for item in stats["byStatus"]} == {
        "NEW": 4,
        "IN_PROGRESS": 0,
        "ANSWERED": 0,
        "SPAM": 1,
        "ARCHIVED": 0,
    }
    assert {item["kind"]: item["count"] for item in stats["byKind"]} == {
        "QUESTION": 3,
        "APPEAL": 1,
        "PROPOSAL": 1,
    }
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert (await writer_client.data(STATS, {"createdAfter": tomorrow}))["feedbackStats"][
        "total"
    ] == 0


async def test_queue_statements_do_not_grow_with_page_size(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    await seed_messages(writer_client)
    handler = await User.get(email=await create_staff("editor"))
    await FeedbackMessage.all().update(assigned_to_id=handler.pk)
    await login_as(writer_client, "editor")
    await writer_client.data("{ me { email } }")  # the session's first use is recorded once
    counts = []
    for first in (1, 50):
        with count_statements() as statements:
            await writer_client.data(QUEUE, {"first": first})
        # authenticating the caller; the page; its count; the assignees of the page
        counts.append(len(statements))
    assert counts == [4, 4]
