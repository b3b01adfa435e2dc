"""Writing content, the same way for every type: validate everything first, then one
transaction (a compare-and-set on `revision`, the links, a revision snapshot), then
announce the change after the commit.

Who may change what (object level; the API checks the role or scope first):
- ADMIN and EDITOR change, publish and delete everything;
- AUTHOR and WRITE tokens create items of types with publication and change or
  delete their own drafts; types without publication (public at once) are written
  only by roles that may publish (`permissions.action_to_write`); an AUTHOR owns
  what it created (`created_by`), a token what it created (the author of revision 1);
- nobody else changes anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from cms.db import flat_values
from cms.errors import Code, FieldError, ValidationFailedError
from cms.models import ContentModel, PublicationState, Revision
from cms.models.base import SearchableMixin
from cms.services import revisions
from cms.services.content_types import ContentType
from cms.services.events import ContentChange, content_changed
from cms.services.permissions import Action, action_to_write, allowed
from cms.services.revisions import LinkValues, jsonable, read_links, snapshot
from cms.services.slug_history import keep_old_slug, slug_owner
from cms.services.validation import Checker
from cms.services.viewer import Viewer
from cms.services.visibility import now, visible
from cms.services.webhooks.events import record_content

M = TypeVar("M", bound=ContentModel)
_ATTEMPTS = 3  # an update without expectedRevision retries when another one slipped in
_DEADLOCK_ATTEMPTS = 10  # PostgreSQL's deadlock victims retry, with jitter


@dataclass
class Changes:
    """What a validated input writes: column values and whole links (absent = unchanged)."""

    fields: dict[str, Any] = field(default_factory=dict)
    links: LinkValues = field(default_factory=dict)
    # Runs first inside the transaction, e.g. to create the new tags a news item names.
    prepare: Callable[[Changes], Awaitable[None]] | None = None
    # Further changes to announce after the commit (the tags created by `prepare`).
    announce: list[ContentChange] = field(default_factory=list)


# Validates an input against the item it changes (None when creating) into Changes;
# problems go to the Checker, and nothing is written while there are any.
Build = Callable[[Checker, Any], Awaitable[Changes]]


class _StaleError(Exception):
    """The compare-and-set found another revision: someone else changed the item."""


def not_found(kind: ContentType, field_path: tuple[str, ...] = ("id",)) -> ValidationFailedError:
    return ValidationFailedError.one(field_path, Code.NOT_FOUND, f"Не найдено: {kind.label}.")


def conflict(kind: ContentType, current: int | None) -> ValidationFailedError:
    now_at = f" (сейчас ревизия {current})" if current is not None else ""
    return ValidationFailedError.one(
        ("expectedRevision",),
        Code.CONFLICT,
        f"{kind.label.capitalize()}: изменено другим пользователем{now_at}. "
        "Загрузите текущую версию и повторите правку.",
    )


# ---------------------------------------------------------------- permissions


def _is_draft(item: ContentModel) -> bool:
    return getattr(item, "status", None) == PublicationState.DRAFT


def _public(kind: ContentType, item: ContentModel) -> bool:
    """Whether the public sees the item (trash aside), or will at its scheduled moment:
    a change to an item that is not and was not public touches no public answer."""
    return not kind.publishable or getattr(item, "status", None) == PublicationState.PUBLISHED


def _ensure_may_write(kind: ContentType, viewer: Viewer) -> None:
    if not allowed(viewer, action_to_write(kind.model)):
        raise ValidationFailedError.one(
            None,
            Code.FORBIDDEN,
            f"Материалы типа «{kind.label}» видны всем сразу, без публикации: "
            "создавать, менять и удалять их может только редактор.",
        )


async def owns(kind: ContentType, viewer: Viewer, item: ContentModel) -> bool:
    if viewer.user_id is not None:
        return item.created_by_id == viewer.user_id
    if viewer.token_id is not None:
        return await Revision.exists(
            content_type=kind.name, object_id=item.pk, number=1, author_token_id=viewer.token_id
        )
    return False


async def ensure_may_change(
    kind: ContentType, viewer: Viewer, item: ContentModel, *, deleting: bool = False
) -> None:
    if allowed(viewer, Action.DELETE if deleting else Action.PUBLISH):
        return
    _ensure_may_write(kind, viewer)
    if allowed(viewer, Action.EDIT_CONTENT) and await owns(kind, viewer, item):
        if _is_draft(item):
            return
        raise ValidationFailedError.one(
            None,
            Code.FORBIDDEN,
            "Опубликованный материал может менять или удалять только редактор.",
        )
    raise ValidationFailedError.one(
        None, Code.FORBIDDEN, "Автор может менять и удалять только свои черновики."
    )


async def load(kind: ContentType, viewer: Viewer, pk: int) -> ContentModel:
    """An item the viewer sees (never a trashed one), or NOT_FOUND."""
    item = await visible(kind.model, viewer).get_or_none(id=pk)
    if item is None:
        raise not_found(kind)
    return item


# ---------------------------------------------------------------- writing


async def create(kind: ContentType, viewer: Viewer, build: Build) -> ContentModel:
    _ensure_may_write(kind, viewer)
    check = Checker()
    changes = await build(check, None)
    check.raise_if_any()
    async with _unique_violations_as_conflicts(), in_transaction():
        if changes.prepare is not None:
            await changes.prepare(changes)
        item = await kind.model.create(**changes.fields, created_by_id=viewer.user_id)
        links = await _write_links(kind, item.pk, {}, changes.links)
        state = snapshot(kind, item, links)
        changed = revisions.changed_fields(None, state)
        await revisions.record(kind, item.pk, item.revision, viewer, changed, state)
        await record_content(kind.name, item, "created", item.revision, changed)
    await _announce(kind, item, "created", changes.announce, public=_public(kind, item))
    return item


async def update(
    kind: ContentType,
    viewer: Viewer,
    pk: int,
    build: Build,
    *,
    expected_revision: int | None = None,
    action: str = "updated",
    changed_extra: tuple[str, ...] = (),
) -> ContentModel:
    """Changes an item. With `expected_revision`, any other revision is a CONFLICT and
    nothing is written; without it, a concurrent change is re-read and re-applied."""
    stale = deadlocks = 0
    while stale < _ATTEMPTS:
        item = await load(kind, viewer, pk)
        await ensure_may_change(kind, viewer, item)
        if expected_revision is not None and expected_revision != item.revision:
            raise conflict(kind, item.revision)
        check = Checker()
        changes = await build(check, item)
        check.raise_if_any()
        try:
            await _apply(kind, viewer, item, changes, action, changed_extra)
        except _StaleError:
            if expected_revision is not None:
                current = await flat_values(kind.model.filter(id=pk), "revision")
                raise conflict(kind, current[0] if current else None) from None
            stale += 1
            continue
        except Exception as error:
            if not is_deadlock(error):
                raise
            # PostgreSQL undid this transaction to break a lock cycle (two writers
            # changing the same news counters in opposite orders): nothing was
            # written, so it is tried again, after a random pause that breaks the tie.
            deadlocks += 1
            if deadlocks > _DEADLOCK_ATTEMPTS:
                raise conflict(kind, None) from None
            await asyncio.sleep(random.uniform(0, 0.01 * deadlocks))
            continue
        return item
    raise conflict(kind, None)


def is_deadlock(error: BaseException) -> bool:
    """PostgreSQL's deadlock_detected (SQLSTATE 40P01), raw or wrapped by Tortoise."""
    return any(getattr(e, "sqlstate", None) == "40P01" for e in (error, error.__cause__))


async def _apply(
    kind: ContentType,
    viewer: Viewer,
    item: ContentModel,
    changes: Changes,
    action: str,
    changed_extra: tuple[str, ...],
) -> None:
    base_revision = item.revision
    before_links = (await read_links(kind, [item.pk]))[item.pk]
    before = snapshot(kind, item, before_links)
    old_slug: str | None = getattr(item, "slug", None)
    was_public = _public(kind, item)
    moment = now()
    async with _unique_violations_as_conflicts(), in_transaction():
        if changes.prepare is not None:
            await changes.prepare(changes)
        for column, value in changes.fields.items():
            setattr(item, column, value)
        columns = dict(changes.fields)
        if isinstance(item, SearchableMixin):
            item.fill_search_text()
            columns["search_text"] = item.search_text
        written = await kind.model.filter(
            id=item.pk, revision=base_revision, deleted_at__isnull=True
        ).update(**columns, revision=base_revision + 1, updated_at=moment)
        if written == 0:
            raise _StaleError
        links = await _write_links(kind, item.pk, before_links, changes.links)
        new_slug: str | None = getattr(item, "slug", None)
        if old_slug is not None and new_slug is not None and new_slug != old_slug:
            await keep_old_slug(kind, item.pk, old_slug, new_slug)
        after = snapshot(kind, item, links)
        changed = revisions.changed_fields(before, after)
        changed += [name for name in changed_extra if name not in changed]
        await revisions.record(kind, item.pk, base_revision + 1, viewer, changed, after)
        await record_content(kind.name, item, action, base_revision + 1, changed)
    item.revision = base_revision + 1
    item.updated_at = moment
    public = was_public or _public(kind, item)
    await _announce(kind, item, action, changes.announce, public=public)


async def _write_links(
    kind: ContentType, pk: int, before: LinkValues, wanted: LinkValues
) -> LinkValues:
    """Rewrites the links that differ; returns every link as it now is."""
    result: LinkValues = {spec.name: list(before.get(spec.name, [])) for spec in kind.links}
    for spec in kind.links:
        if spec.name not in wanted:
            continue
        new = wanted[spec.name]
        if jsonable(new) == jsonable(before.get(spec.name, [])):
            continue
        parent = {f"{spec.parent}_id": pk}
        if not spec.keeps_ids:
            if before.get(spec.name):  # a new item (or an empty link) has nothing to remove
                await spec.model.filter(**parent).delete()
            rows = [
                spec.model(
                    **parent,
                    position=position,
                    **({spec.columns[0]: value} if spec.simple else value),
                )
                for position, value in enumerate(new)
            ]
            if rows:
                await spec.model.bulk_create(rows)
            result[spec.name] = list(new)
            continue
        existing = {row["id"] for row in before.get(spec.name, [])}
        kept = [row for row in new if row.get("id") in existing]
        await spec.model.filter(**parent).exclude(id__in=[row["id"] for row in kept]).delete()
        updated, created = [], []
        for position, row in enumerate(new):
            values = {column: row.get(column) for column in spec.columns}
            if row.get("id") in existing:
                instance = spec.model(id=row["id"], **parent, position=position, **values)
                instance._saved_in_db = True
                updated.append(instance)
            else:
                created.append(spec.model(**parent, position=position, **values))
        if updated:
            await spec.model.bulk_update(updated, fields=["position", *spec.columns])
        if created:
            await spec.model.bulk_create(created)
        result[spec.name] = (await read_links(kind, [pk]))[pk][spec.name] if created else new
    return result


@contextlib.asynccontextmanager
async def _unique_violations_as_conflicts() -> AsyncIterator[None]:
    """A slug taken by a concurrent write between validation and commit."""
    try:
        yield
    except IntegrityError as error:
        raise ValidationFailedError(
            [
                FieldError(
                    ("input", "slug"),
                    Code.CONFLICT,
                    "Адрес (slug) уже занят другой записью; выберите другой.",
                )
            ]
        ) from error


async def _announce(
    kind: ContentType, item: ContentModel, action: str, more: list[ContentChange], *, public: bool
) -> None:
    await content_changed(ContentChange(kind.name, (item.pk,), action, public=public))
    for change in more:
        # What the change brought in (a draft's new tags) is public only with it.
        await content_changed(replace(change, public=change.public and public))


# ---------------------------------------------------------------- publication


async def publish(kind: ContentType, viewer: Viewer, pk: int, at: datetime | None) -> ContentModel:
    """Published now, at `at`, or (already published, no `at`) when it was. A future
    moment schedules it: it becomes visible then, with no job to run."""

    async def build(check: Checker, item: Any) -> Changes:
        moment = at
        if moment is None:
            moment = item.published_at if item.status == PublicationState.PUBLISHED else None
        return Changes(
            fields={"status": PublicationState.PUBLISHED, "published_at": moment or now()}
        )

    return await update(kind, viewer, pk, build, action="published")


async def unpublish(kind: ContentType, viewer: Viewer, pk: int) -> ContentModel:
    """Back to a draft, hidden from the public at once."""

    async def build(check: Checker, item: Any) -> Changes:
        return Changes(fields={"status": PublicationState.DRAFT, "published_at": None})

    return await update(kind, viewer, pk, build, action="unpublished")


# ---------------------------------------------------------------- trash


async def delete(kind: ContentType, viewer: Viewer, pk: int) -> None:
    """Moves an item to the trash: hidden everywhere, its links kept for a restore."""
    item = await load(kind, viewer, pk)
    await ensure_may_change(kind, viewer, item, deleting=True)
    await _set_trashed(kind, viewer, item, trashed=True)
    await _announce(kind, item, "deleted", [], public=_public(kind, item))


async def restore_from_trash(kind: ContentType, viewer: Viewer, pk: int) -> ContentModel:
    item = await kind.model.get_or_none(id=pk, deleted_at__isnull=False)
    if item is None:
        raise ValidationFailedError.one(
            ("id",), Code.NOT_FOUND, f"В корзине нет такого элемента ({kind.label})."
        )
    await _set_trashed(kind, viewer, item, trashed=False)
    await _announce(kind, item, "restored", [], public=_public(kind, item))
    return item


async def _set_trashed(
    kind: ContentType, viewer: Viewer, item: ContentModel, *, trashed: bool
) -> None:
    moment = now()
    links = (await read_links(kind, [item.pk]))[item.pk]
    state = snapshot(kind, item, links)
    base_revision = item.revision
    async with in_transaction():
        written = await kind.model.filter(
            id=item.pk, revision=base_revision, deleted_at__isnull=trashed
        ).update(
            deleted_at=moment if trashed else None,
            deleted_by_id=viewer.user_id if trashed else None,
            revision=base_revision + 1,
            updated_at=moment,
        )
        if written == 0:
            raise conflict(kind, None)
        await revisions.record(kind, item.pk, base_revision + 1, viewer, ["deletedAt"], state)
        action = "deleted" if trashed else "restored"
        await record_content(kind.name, item, action, base_revision + 1, ["deletedAt"])
    item.revision = base_revision + 1
    item.updated_at = moment
    item.deleted_at = moment if trashed else None


# ---------------------------------------------------------------- revisions


async def restore_revision(kind: ContentType, viewer: Viewer, pk: int, number: int) -> ContentModel:
    """Brings back an earlier state of the content and its links as a new revision.
    Publication is left as it is: publish and unpublish do that."""
    stored = await Revision.get_or_none(content_type=kind.name, object_id=pk, number=number)
    if stored is None:
        raise ValidationFailedError.one(
            ("revision",), Code.NOT_FOUND, f"У этого элемента нет ревизии {number}."
        )

    async def build(check: Checker, item: Any) -> Changes:
        fields, links = await revisions.values_from_snapshot(
            kind, stored.snapshot, skip=("status", "published_at")
        )
        slug = fields.get("slug")
        if slug is not None and slug != getattr(item, "slug", None):
            owner = await slug_owner(kind, slug)
            if owner is not None and owner != item.pk:
                check.fail(
                    ("revision",),
                    Code.CONFLICT,
                    f"Адрес «{slug}» этой ревизии теперь занят другой записью.",
                )
        return Changes(fields=fields, links=links)

    return await update(kind, viewer, pk, build, action="restored")
