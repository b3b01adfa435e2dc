"""The trash: deleted items of every type, newest first, and purging old ones.

Deleting only sets `deleted_at` (see editing.delete); the visibility layer hides
such items and everything that exists only as their part. Purging removes for
good what has been in the trash longer than the retention period, together with
the links that pointed at it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from cms.db import flat_values
from cms.models import (
    ActionPlan,
    ActionPlanDirection,
    ActionPlanSignatory,
    AgreementParty,
    ContentModel,
    Quote,
    Revision,
    SlugRedirect,
    VisitEnterprise,
)
from cms.services.content_types import (
    ACTION_PLAN,
    AGREEMENT,
    CONTENT_TYPES,
    DIRECTION,
    ENTERPRISE,
    EVENT,
    NEWS,
    ORGANIZATION,
    PERSON,
    TAG,
    VISIT,
    ContentType,
)
from cms.services.events import ContentChange, content_changed
from cms.services.pagination import Ordering, SortKey, Window

TRASH_ORDER = Ordering(
    "trash:deleted_at_desc",
    (SortKey("deleted_at", "datetime", True), SortKey("rank", "int"), SortKey("id", "int", True)),
)
_KINDS = list(CONTENT_TYPES.values())


@dataclass(frozen=True, slots=True)
class TrashEntry:
    kind: ContentType
    item: ContentModel

    @property
    def rank(self) -> int:
        return _KINDS.index(self.kind)

    @property
    def id(self) -> int:
        return self.item.pk

    @property
    def deleted_at(self) -> datetime:
        moment = self.item.deleted_at
        assert moment is not None
        return moment

    @property
    def title(self) -> str:
        return str(getattr(self.item, self.kind.title_field))

    def sort_key(self) -> tuple[float, int, int]:
        return (-self.deleted_at.timestamp(), self.rank, -self.id)


async def trash_page(request: Window) -> tuple[list[TrashEntry], bool]:
    """One page (forward only) and whether there is more: one statement per type."""
    entries: list[TrashEntry] = []
    for rank, kind in enumerate(_KINDS):
        queryset = kind.model.filter(deleted_at__isnull=False)
        if request.cursor is not None:
            queryset = queryset.filter(_after(rank, *request.cursor))
        rows = await queryset.order_by("-deleted_at", "-id").limit(request.limit + 1)
        entries += [TrashEntry(kind, row) for row in rows]
    entries.sort(key=TrashEntry.sort_key)
    return entries[: request.limit], len(entries) > request.limit


def _after(rank: int, deleted_at: datetime, cursor_rank: int, cursor_id: int) -> Q:
    """Rows of the type at `rank` that come after the cursor."""
    if rank < cursor_rank:
        return Q(deleted_at__lt=deleted_at)
    if rank > cursor_rank:
        return Q(deleted_at__lte=deleted_at)
    return Q(deleted_at__lt=deleted_at) | Q(deleted_at=deleted_at, id__lt=cursor_id)


async def trash_count() -> int:
    total = 0
    for kind in _KINDS:
        total += await kind.model.filter(deleted_at__isnull=False).count()
    return total


async def purge_trash(older_than: datetime) -> dict[str, int]:
    """Removes for good what was trashed before `older_than`; counts by type.

    Action plans of a purged agreement go with it; quotes, signatures, parties and
    visit stops that named a purged item are removed (they were hidden already)."""
    doomed: dict[str, set[int]] = {}
    async with in_transaction():
        for kind in _KINDS:
            doomed[kind.name] = set(
                await flat_values(kind.model.filter(deleted_at__lt=older_than), "id")
            )
        if doomed[AGREEMENT.name]:
            doomed[ACTION_PLAN.name] |= set(
                await flat_values(ActionPlan.filter(agreement_id__in=doomed[AGREEMENT.name]), "id")
            )
        for link, column, kind in (
            (Quote, "person_id", PERSON),
            (ActionPlanSignatory, "person_id", PERSON),
            (AgreementParty, "organization_id", ORGANIZATION),
            (VisitEnterprise, "enterprise_id", ENTERPRISE),
            (ActionPlanDirection, "direction_id", DIRECTION),
        ):
            if doomed[kind.name]:
                await link.filter(**{f"{column}__in": doomed[kind.name]}).delete()
        # Whatever refers to the others is removed first.
        for kind in (NEWS, VISIT, ACTION_PLAN, AGREEMENT, TAG, EVENT, ENTERPRISE, PERSON):
            await _remove(kind, doomed[kind.name])
        await _remove(ORGANIZATION, doomed[ORGANIZATION.name])
        await _remove(DIRECTION, doomed[DIRECTION.name])
    # Hidden already, but links to them (quotes, parties, stops) went too.
    for name, ids in doomed.items():
        if ids:
            await content_changed(ContentChange(name, tuple(sorted(ids)), "purged"))
    return {name: len(ids) for name, ids in doomed.items() if ids}


async def _remove(kind: ContentType, ids: set[int]) -> None:
    if not ids:
        return
    await kind.model.filter(id__in=ids).delete()
    await Revision.filter(content_type=kind.name, object_id__in=ids).delete()
    await SlugRedirect.filter(content_type=kind.name, object_id__in=ids).delete()
