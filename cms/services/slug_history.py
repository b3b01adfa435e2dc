"""Slugs in the database: free ones for new items, and the old ones items keep.

A renamed item (or a tag merged into another) leaves a SlugRedirect behind, so
that every lookup by slug still finds it. A new slug never takes another
item's old slug: old links keep pointing where they pointed.
"""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.expressions import Q

from cms.db import flat_values
from cms.models import SlugRedirect
from cms.services.content_types import ContentType


async def redirect_targets(kind: ContentType, slugs: Sequence[str]) -> dict[str, int]:
    """Old slug -> the id of the item that had it (one statement)."""
    if not slugs:
        return {}
    rows = await SlugRedirect.filter(content_type=kind.name, slug__in=set(slugs)).values_list(
        "slug", "object_id"
    )
    return dict(rows)


async def slug_owner(kind: ContentType, slug: str) -> int | None:
    """The item that has `slug`, now or as an old slug (trashed items included)."""
    current = await flat_values(kind.model.filter(slug=slug), "id")
    if current:
        return current[0]
    return (await redirect_targets(kind, [slug])).get(slug)


async def free_slug(kind: ContentType, base: str, *, max_length: int = 100) -> str:
    """`base`, or `base-2`, `base-3` ... whichever no item has or had."""
    base = base[:max_length].rstrip("-") or kind.name.lower()
    pattern = Q(slug=base) | Q(slug__startswith=f"{base}-")
    taken = set(await flat_values(kind.model.filter(pattern), "slug"))
    taken |= set(await flat_values(SlugRedirect.filter(pattern, content_type=kind.name), "slug"))
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


async def keep_old_slug(kind: ContentType, object_id: int, old: str, new: str) -> None:
    """After a rename: the old slug keeps resolving, the new one is nobody's old slug."""
    await SlugRedirect.filter(content_type=kind.name, slug=new, object_id=object_id).delete()
    if not await SlugRedirect.exists(content_type=kind.name, slug=old):
        await SlugRedirect.create(content_type=kind.name, slug=old, object_id=object_id)
