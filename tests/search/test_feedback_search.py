"""Staff search feedback messages with the same engine (Russian word forms, phrases,
prefixes), names and contacts included; nobody without READ_FEEDBACK finds any."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from tortoise.connection import get_connection

from cms.models import FeedbackMessage, Role
from cms.services import fulltext
from cms.services.feedback.queue import QueueFilter, queue_queryset
from cms.services.viewer import Viewer
from tests.conftest import BACKEND, TestDatabase

EDITOR = Viewer(user_id=1, role=Role.EDITOR)

MESSAGES = {
    "Q-2026-000101": {
        "name": "Анна Ёлкина",
        "phone": "+74162550011",
        "subject": "Сотрудничество с предприятиями",
        "message": "Прошу рассказать о сотрудничестве предприятий Алтайского края.",
    },
    "Q-2026-000102": {
        "name": "Пётр Сидоров",
        "email": "petr.sidorov@example.ru",
        "message": "Когда откроется космодром для экскурсий?",
    },
}


async def _tickets(viewer: Viewer, search: str) -> list[str]:
    queryset = await queue_queryset(viewer, QueueFilter(search=search))
    return [row.ticket for row in await queryset.order_by("ticket")]


@pytest.mark.parametrize(
    ("search", "tickets"),
    [
        ("сотрудничества", ["Q-2026-000101"]),
        ("предприятие алтайский", ["Q-2026-000101"]),
        ('"алтайского края"', ["Q-2026-000101"]),
        ("космодрома", ["Q-2026-000102"]),
        ("экскурсия -космодром", []),
        ("ЕЛКИНОЙ", ["Q-2026-000101"]),
        ("петр", ["Q-2026-000102"]),
        ("petr.sidorov@example.ru", ["Q-2026-000102"]),
        ("petr@", ["Q-2026-000102"]),
        ("+74162", ["Q-2026-000101"]),
        ("q-2026-000102", ["Q-2026-000102"]),
        ("2026", ["Q-2026-000101", "Q-2026-000102"]),
        ("   ", ["Q-2026-000101", "Q-2026-000102"]),
    ],
)
async def test_staff_search_with_morphology_and_contacts(
    empty_db: TestDatabase, search: str, tickets: list[str]
) -> None:
    for ticket, fields in MESSAGES.items():
        await FeedbackMessage.create(ticket=ticket, **fields)
    assert await _tickets(EDITOR, search) == tickets


@pytest.mark.parametrize(
    "viewer",
    [Viewer(), Viewer(user_id=2, role=Role.AUTHOR), Viewer(user_id=3, role=Role.VIEWER)],
)
async def test_nobody_else_finds_a_message(empty_db: TestDatabase, viewer: Viewer) -> None:
    for ticket, fields in MESSAGES.items():
        await FeedbackMessage.create(ticket=ticket, **fields)
    for search in ("Елкина", "+74162", "petr", "космодром", "2026"):
        assert await _tickets(viewer, search) == [], search


async def test_erased_personal_data_leaves_the_index(empty_db: TestDatabase) -> None:
    for ticket, fields in MESSAGES.items():
        await FeedbackMessage.create(ticket=ticket, **fields)
    await FeedbackMessage.filter(ticket="Q-2026-000101").update(
        name="", phone=None, subject=None, message=""
    )
    assert await _tickets(EDITOR, "Елкина") == []
    assert await _tickets(EDITOR, "сотрудничество") == []
    assert await _tickets(EDITOR, "000101") == ["Q-2026-000101"]


# ---------------------------------------------------------------- indexed after the commit

sqlite_only = pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite indexes feedback later")


async def _waiting() -> list[int]:
    _, rows = await get_connection("default").execute_query(
        "SELECT id FROM feedback_message_fts_waiting ORDER BY id"
    )
    return [int(row["id"]) for row in rows]


async def _indexed() -> list[int]:
    _, rows = await get_connection("default").execute_query(
        "SELECT rowid AS id FROM feedback_message_fts ORDER BY rowid"
    )
    return [int(row["id"]) for row in rows]


@sqlite_only
async def test_a_new_message_waits_and_the_next_search_indexes_it(empty_db: TestDatabase) -> None:
    first = await FeedbackMessage.create(
        ticket="Q-1", name="Анна Ёлкина", message="О сотрудничестве"
    )
    # The submission's transaction wrote no index, only the id.
    assert (await _waiting(), await _indexed()) == ([first.pk], [])
    assert await _tickets(EDITOR, "сотрудничество") == ["Q-1"]
    assert (await _waiting(), await _indexed()) == ([], [first.pk])
    second = await FeedbackMessage.create(ticket="Q-2", name="Пётр", message="Про космодром")
    assert await _tickets(EDITOR, "космодром") == ["Q-2"]
    assert (await _waiting(), await _indexed()) == ([], [first.pk, second.pk])


@sqlite_only
async def test_a_waiting_message_changed_or_deleted_is_indexed_as_it_is(
    empty_db: TestDatabase,
) -> None:
    erased = await FeedbackMessage.create(ticket="Q-1", name="Анна Ёлкина", message="Текст")
    deleted = await FeedbackMessage.create(ticket="Q-2", name="Пётр", message="Текст")
    # Erased before its turn: the update indexes it at once, the turn again (no
    # duplicate row in the index, no old words).
    await FeedbackMessage.filter(pk=erased.pk).update(name="", message="")
    await FeedbackMessage.filter(pk=deleted.pk).delete()
    assert await _waiting() == [erased.pk]
    assert await _tickets(EDITOR, "Елкина") == []
    assert await _tickets(EDITOR, "Текст") == []
    assert await _tickets(EDITOR, "q-1") == ["Q-1"]
    assert (await _waiting(), await _indexed()) == ([], [erased.pk])


@sqlite_only
async def test_a_backlog_is_indexed_in_batches_in_one_go(
    empty_db: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fulltext, "INDEX_LATER_BATCH", 2)
    for number in range(5):
        await FeedbackMessage.create(
            ticket=f"Q-{number}", name="Анна", message=f"Вопрос о станции {number}"
        )
    assert await fulltext.index_waiting(FeedbackMessage) == 5
    assert len(await _indexed()) == 5
    assert await fulltext.index_waiting(FeedbackMessage) == 0
    assert len(await _tickets(EDITOR, "станция")) == 5


@sqlite_only
async def test_the_background_indexes_what_waits_without_a_search(
    empty_db: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fulltext, "INDEX_LATER_SECONDS", 0.01)
    message = await FeedbackMessage.create(ticket="Q-1", name="Анна", message="О сотрудничестве")
    task = asyncio.create_task(fulltext.keep_indexed())
    try:
        for _ in range(500):  # 5 s at most
            if not await _waiting():
                break
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert await _indexed() == [message.pk]


async def test_nothing_waits_on_postgresql(empty_db: TestDatabase) -> None:
    if BACKEND != "postgres":
        pytest.skip("PostgreSQL computes the vector in the row")
    await FeedbackMessage.create(ticket="Q-1", name="Анна", message="О сотрудничестве")
    assert await fulltext.index_waiting(FeedbackMessage) == 0
    assert await _tickets(EDITOR, "сотрудничество") == ["Q-1"]
