"""Staff search feedback messages with the same engine (Russian word forms, phrases,
prefixes), names and contacts included; nobody without READ_FEEDBACK finds any."""

from __future__ import annotations

import pytest

from cms.models import FeedbackMessage, Role
from cms.services.feedback.queue import QueueFilter, queue_queryset
from cms.services.viewer import Viewer
from tests.conftest import TestDatabase

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
    rows = await queue_queryset(viewer, QueueFilter(search=search)).order_by("ticket")
    return [row.ticket for row in rows]


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
