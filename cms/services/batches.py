"""Batched reads for many parents at once, each one SQL statement, visibility applied.

DataLoaders call these: a request then costs a number of statements that does
not grow with page size or the number of parents.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from typing import TypeVar

from tortoise.models import Model

from cms.services.columns import fits as fits_column
from cms.services.content_types import ContentType, of_model
from cms.services.slug_history import redirect_targets
from cms.services.viewer import Viewer
from cms.services.visibility import visible, visible_q

M = TypeVar("M", bound=Model)


async def by_ids(model: type[M], viewer: Viewer, ids: Sequence[int]) -> list[M | None]:
    """Rows in the order of `ids`; None where a row is missing or hidden."""
    rows = {row.pk: row for row in await visible(model, viewer).filter(id__in=set(ids))}
    return [rows.get(pk) for pk in ids]


async def by_field(
    model: type[M], viewer: Viewer, field: str, values: Sequence[Hashable]
) -> list[M | None]:
    """Rows by a unique field (slug, code), in the order of `values`; a slug that an item
    had before a rename or a tag merge still finds it."""
    # A value the column cannot hold (too long, out of range) is nobody's: not asked for.
    wanted = {value for value in values if fits_column(model, field, value)}
    rows = await visible(model, viewer).filter(**{f"{field}__in": wanted}) if wanted else []
    found: dict[Hashable, M] = {getattr(row, field): row for row in rows}
    kind = of_model(model)
    if field == "slug" and kind is not None:
        missing = [value for value in values if value in wanted and value not in found]
        if missing:
            found.update(await _by_old_slug(kind, model, viewer, missing))
    return [found.get(value) for value in values]


async def _by_old_slug(
    kind: ContentType, model: type[M], viewer: Viewer, slugs: Sequence[Hashable]
) -> dict[Hashable, M]:
    """Items found by a slug they had before a rename or a merge (at most two statements,
    only when some slug is not current)."""
    targets = await redirect_targets(kind, [str(slug) for slug in slugs])
    if not targets:
        return {}
    rows = {
        row.pk: row for row in await visible(model, viewer).filter(id__in=set(targets.values()))
    }
    return {slug: rows[pk] for slug, pk in targets.items() if pk in rows}


async def linked(
    link_model: type[Model],
    parent_field: str,
    child_field: str,
    child_model: type[M],
    viewer: Viewer,
    parent_ids: Sequence[int],
) -> list[list[M]]:
    """Visible children reached through a link table, in link `position` order."""
    links = (
        await link_model.filter(
            visible_q(child_model, viewer, prefix=f"{child_field}__", via=link_model),
            **{f"{parent_field}_id__in": set(parent_ids)},
        )
        .select_related(child_field)
        .order_by(f"{parent_field}_id", "position", "id")
    )
    grouped: dict[int, list[M]] = defaultdict(list)
    for link in links:
        grouped[getattr(link, f"{parent_field}_id")].append(getattr(link, child_field))
    return [grouped.get(pk, []) for pk in parent_ids]


async def children(
    child_model: type[M],
    parent_field: str,
    viewer: Viewer,
    parent_ids: Sequence[int],
    order_by: Sequence[str],
) -> list[list[M]]:
    """Visible rows pointing at each parent through the foreign key `parent_field`."""
    rows = (
        await visible(child_model, viewer)
        .filter(**{f"{parent_field}_id__in": set(parent_ids)})
        .order_by(f"{parent_field}_id", *order_by)
    )
    grouped: dict[int, list[M]] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, f"{parent_field}_id")].append(row)
    return [grouped.get(pk, []) for pk in parent_ids]
