"""Batch functions of the feedback area."""

from __future__ import annotations

from cms import models
from cms.services import batches
from cms.services.viewer import Viewer


async def feedback_by_id(viewer: Viewer, ids: list[int]) -> list[models.FeedbackMessage | None]:
    # visible() returns no message to a caller who may not read personal data.
    return await batches.by_ids(models.FeedbackMessage, viewer, ids)


async def staff_by_id(viewer: Viewer, ids: list[int]) -> list[models.User | None]:
    return await batches.by_ids(models.User, viewer, ids)
