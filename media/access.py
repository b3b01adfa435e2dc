"""Which stored bytes a caller may fetch. The file routes ask the one visibility rule
(cms/services/visibility.py) about the assets that have these bytes: a file is served
when one of them is visible, as if missing otherwise."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from cms.models import MediaAsset
from cms.services.viewer import ANONYMOUS, Viewer
from cms.services.visibility import visible


@dataclass(frozen=True, slots=True)
class VisibleFile:
    asset: MediaAsset  # the first visible asset with these bytes (its name, its size)
    public: bool  # anonymous callers see it too: shared caches may keep the file


async def visible_file(
    sha256: str, caller: Callable[[], Awaitable[Viewer]], *, image: bool = False
) -> VisibleFile | None:
    """The file with these bytes as the caller may see it, or None. Public files cost
    one query and never identify the caller; others are looked up again with the
    caller's rights, when those differ from an anonymous caller's."""
    found = await _first(sha256, ANONYMOUS, image)
    if found is not None:
        return VisibleFile(found, public=True)
    viewer = await caller()
    if viewer.visibility_scope == ANONYMOUS.visibility_scope:
        return None
    found = await _first(sha256, viewer, image)
    return VisibleFile(found, public=False) if found is not None else None


async def _first(sha256: str, viewer: Viewer, image: bool) -> MediaAsset | None:
    query = visible(MediaAsset, viewer).filter(sha256=sha256)
    if image:
        query = query.filter(width__isnull=False, height__isnull=False)
    return await query.order_by("id").first()
