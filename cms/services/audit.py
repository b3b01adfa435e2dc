"""The audit log: every mutation by staff or a token, who, what, which item, from where.

An entry is written in the same transaction as the change it records: neither
commits without the other.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tortoise.transactions import in_transaction

from cms.models import AuditEntry
from cms.services import columns
from cms.services.events import after_commit
from cms.services.viewer import Viewer

logger = logging.getLogger("cms.audit")
T = TypeVar("T")


async def record(
    viewer: Viewer, action: str, *, object_id: str | None, succeeded: bool
) -> AuditEntry | None:
    """Writes an entry unless the caller is anonymous (public forms are not audited)."""
    if viewer.is_anonymous:
        return None
    return await AuditEntry.create(
        actor=columns.fit_text(AuditEntry, "actor", viewer.actor),
        user_id=viewer.user_id,
        api_token_id=viewer.token_id,
        action=columns.fit_text(AuditEntry, "action", action),
        # What the caller sent may be anything: kept as far as the column holds it.
        object_id=columns.fit_text(AuditEntry, "object_id", object_id),
        address=columns.fit_text(AuditEntry, "address", viewer.address or None),
        succeeded=succeeded,
    )


async def audited(
    viewer: Viewer,
    action: str,
    work: Callable[[], Awaitable[T]],
    outcome: Callable[[T], tuple[str | None, bool]],
    *,
    object_id: str | None,
) -> T:
    """Runs `work` (one mutation) and records it in one transaction: `outcome` names
    the item and whether it succeeded. When `work` or the entry fails, everything is
    rolled back and the failed attempt is recorded on its own (`object_id`)."""
    if viewer.is_anonymous:
        return await work()
    try:
        # Announcements wait for the commit: no listener hears of a rolled-back change.
        async with after_commit(), in_transaction():
            result = await work()
            done_id, succeeded = outcome(result)
            await record(viewer, action, object_id=done_id, succeeded=succeeded)
    except Exception:
        try:
            await record(viewer, action, object_id=object_id, succeeded=False)
        except Exception:
            logger.exception("the audit entry of a failed %s could not be written", action)
        raise
    return result
