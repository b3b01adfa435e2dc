"""Batch functions of the accounts area."""

from __future__ import annotations

from cms import models
from cms.services.viewer import Viewer


async def user_by_id(viewer: Viewer, ids: list[int]) -> list[models.User | None]:
    rows = {row.pk: row for row in await models.User.filter(id__in=set(ids))}
    return [rows.get(pk) for pk in ids]


async def token_by_id(viewer: Viewer, ids: list[int]) -> list[models.ApiToken | None]:
    rows = {row.pk: row for row in await models.ApiToken.filter(id__in=set(ids))}
    return [rows.get(pk) for pk in ids]


async def token_name_by_id(viewer: Viewer, ids: list[int]) -> list[str | None]:
    rows = dict(await models.ApiToken.filter(id__in=set(ids)).values_list("id", "name"))
    return [rows.get(pk) for pk in ids]


async def audit_entry_by_id(viewer: Viewer, ids: list[int]) -> list[models.AuditEntry | None]:
    rows = {row.pk: row for row in await models.AuditEntry.filter(id__in=set(ids))}
    return [rows.get(pk) for pk in ids]
