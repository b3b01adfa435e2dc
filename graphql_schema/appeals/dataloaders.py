"""Batch functions of the appeals area."""

from __future__ import annotations

from cms import models
from cms.services import batches
from cms.services.viewer import Viewer
from cms.services.visibility import visible


async def history_by_appeal(viewer: Viewer, ids: list[int]) -> list[list[models.AppealEvent]]:
    """The steps of many appeals in one statement, oldest first."""
    rows = await visible(models.AppealEvent, viewer).filter(appeal_id__in=set(ids)).order_by("id")
    by_appeal: dict[int, list[models.AppealEvent]] = {}
    for row in rows:
        by_appeal.setdefault(row.appeal_id, []).append(row)  # type: ignore[attr-defined]
    return [by_appeal.get(pk, []) for pk in ids]


async def appeal_by_message(viewer: Viewer, ids: list[int]) -> list[models.Appeal | None]:
    rows = await visible(models.Appeal, viewer).filter(message_id__in=set(ids))
    by_message = {row.message_id: row for row in rows}  # type: ignore[attr-defined]
    return [by_message.get(pk) for pk in ids]


async def appeal_by_id(viewer: Viewer, ids: list[int]) -> list[models.Appeal | None]:
    # visible() returns no appeal to a caller who may not read personal data.
    return await batches.by_ids(models.Appeal, viewer, ids)


async def consent_by_id(viewer: Viewer, ids: list[int]) -> list[models.ConsentDocument | None]:
    # Consent texts are public documents: no visibility rule applies.
    rows = {row.pk: row for row in await models.ConsentDocument.filter(id__in=set(ids))}
    return [rows.get(pk) for pk in ids]
