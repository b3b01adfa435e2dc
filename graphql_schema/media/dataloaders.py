"""Batch functions of the media area."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from cms import models
from cms.services import batches, surrogate_keys
from cms.services.viewer import Viewer


async def media_by_id(viewer: Viewer, ids: list[int]) -> list[models.MediaAsset | None]:
    return await batches.by_ids(models.MediaAsset, viewer, ids)


async def media_of_visible_rows(viewer: Viewer, ids: list[int]) -> list[models.MediaAsset | None]:
    """Assets that rows the viewer sees use (covers, logos, photos): visible by that
    use, whatever else uses them (see `unrecorded_uses`)."""
    with unrecorded_uses():
        return await batches.by_ids(models.MediaAsset, viewer, ids)


async def documents_of_agreements(
    viewer: Viewer, agreement_ids: list[int]
) -> list[list[models.MediaAsset]]:
    with unrecorded_uses():
        return await batches.linked(
            models.AgreementDocument, "agreement", "asset", models.MediaAsset, viewer, agreement_ids
        )


@contextmanager
def unrecorded_uses() -> Iterator[None]:
    """An asset is visible while a visible row uses it: reached from such a row, the
    answer depends on that row (whose keys it holds) and the asset's own list, not on
    the lists of everything else that may use it (publishing a news item must not
    void an enterprise page for its logo)."""
    surrogate_keys.record(surrogate_keys.list_key(models.MediaAsset.__name__))
    with surrogate_keys.recording(None):
        yield
