"""Batch functions of the media area."""

from __future__ import annotations

from cms import models
from cms.services import batches
from cms.services.viewer import Viewer


async def media_by_id(viewer: Viewer, ids: list[int]) -> list[models.MediaAsset | None]:
    return await batches.by_ids(models.MediaAsset, viewer, ids)


async def documents_of_agreements(
    viewer: Viewer, agreement_ids: list[int]
) -> list[list[models.MediaAsset]]:
    return await batches.linked(
        models.AgreementDocument, "agreement", "asset", models.MediaAsset, viewer, agreement_ids
    )
