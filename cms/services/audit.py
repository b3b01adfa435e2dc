"""The audit log: every mutation by staff or a token, who, what, which item, from where."""

from __future__ import annotations

from cms.models import AuditEntry
from cms.services.viewer import Viewer


async def record(
    viewer: Viewer, action: str, *, object_id: str | None, succeeded: bool
) -> AuditEntry | None:
    """Writes an entry unless the caller is anonymous (public forms are not audited)."""
    if viewer.is_anonymous:
        return None
    return await AuditEntry.create(
        actor=viewer.actor,
        user_id=viewer.user_id,
        api_token_id=viewer.token_id,
        action=action,
        object_id=object_id,
        address=(viewer.address or "")[:64] or None,
        succeeded=succeeded,
    )
