"""Revisions: a JSON snapshot of an item with its links after every change.

A snapshot is {"fields": {column: value}, "links": {name: [...]}} with dates and
times as ISO strings and enums as their values, so that it can be stored, shown
and compared as it is, and turned back into values to restore.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any

from tortoise.models import Model

from cms.db import flat_values
from cms.models import Revision
from cms.services.content_types import ContentType, LinkSpec
from cms.services.viewer import Viewer

Snapshot = dict[str, Any]
LinkValues = dict[str, list[Any]]

# Columns that are one field for people: the body's HTML and its plain text, a location.
_FIELD_LABELS = {
    "body_html": "body",
    "body_text": "body",
    "latitude": "location",
    "longitude": "location",
}


def jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value


def field_label(column: str) -> str:
    """The API's name of a column: body_html -> body, cover_id -> cover, short_name -> shortName."""
    name = _FIELD_LABELS.get(column, column)
    name = name.removesuffix("_id")
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


async def read_links(kind: ContentType, ids: Sequence[int]) -> dict[int, LinkValues]:
    """The links of many items: one statement per kind of link, whatever their number."""
    result: dict[int, LinkValues] = {pk: {spec.name: [] for spec in kind.links} for pk in ids}
    if not ids:
        return result
    for spec in kind.links:
        parent_key = f"{spec.parent}_id"
        columns = (*spec.columns, "id") if spec.keeps_ids else spec.columns
        rows = (
            await spec.model.filter(**{f"{parent_key}__in": set(ids)})
            .order_by(parent_key, "position", "id")
            .values(parent_key, *columns)
        )
        for row in rows:
            parent = row.pop(parent_key)
            value = row[spec.columns[0]] if spec.simple else row
            result[parent][spec.name].append(value)
    return result


def snapshot(kind: ContentType, item: Model, links: Mapping[str, list[Any]]) -> Snapshot:
    return {
        "fields": {column: jsonable(getattr(item, column)) for column in kind.fields},
        "links": {spec.name: jsonable(list(links.get(spec.name, []))) for spec in kind.links},
    }


def changed_fields(before: Snapshot | None, after: Snapshot) -> list[str]:
    """The API names of what differs; every field with a value when there is no `before`."""
    names: list[str] = []
    for section in ("fields", "links"):
        old = before[section] if before is not None else {}
        for key, value in after[section].items():
            if before is None and value in (None, "", []):
                continue
            if before is None or old.get(key) != value:
                label = field_label(key) if section == "fields" else key
                if label not in names:
                    names.append(label)
    return names


async def record(
    kind: ContentType,
    object_id: int,
    number: int,
    viewer: Viewer | None,
    changed: list[str],
    state: Snapshot,
) -> Revision:
    return await Revision.create(
        content_type=kind.name,
        object_id=object_id,
        number=number,
        author_id=viewer.user_id if viewer else None,
        author_token_id=viewer.token_id if viewer else None,
        changed_fields=changed,
        snapshot=state,
    )


async def record_many(
    kind: ContentType,
    entries: Iterable[tuple[int, int, Snapshot]],
    viewer: Viewer,
    changed: list[str],
    *,
    keep_existing: bool = False,
) -> None:
    """Revisions of many items changed by one operation (a tag merge), in one statement;
    `keep_existing` skips the numbers an item has already (instead of failing)."""
    rows = [
        Revision(
            content_type=kind.name,
            object_id=object_id,
            number=number,
            author_id=viewer.user_id,
            author_token_id=viewer.token_id,
            changed_fields=changed,
            snapshot=state,
        )
        for object_id, number, state in entries
    ]
    if rows:
        await Revision.bulk_create(rows, ignore_conflicts=keep_existing)


# ---------------------------------------------------------------- restoring


def _python(model: type[Model], column: str, value: Any) -> Any:
    if value is None:
        return None
    return model._meta.fields_map[column].to_python_value(value)


async def _existing(model: type[Model], ids: set[int]) -> set[int]:
    if not ids:
        return set()
    return set(await flat_values(model.filter(id__in=ids), "id"))


async def values_from_snapshot(
    kind: ContentType, state: Snapshot, *, skip: Iterable[str] = ()
) -> tuple[dict[str, Any], LinkValues]:
    """Column values and links of a stored snapshot, as editing writes them.

    References to rows that no longer exist (purged from the trash, merged tags)
    are dropped from links and cleared in nullable columns; rows in the trash stay
    linked, hidden until they are restored."""
    skipped = set(skip)
    wanted: dict[type[Model], set[int]] = defaultdict(set)
    stored_fields: dict[str, Any] = state.get("fields", {})
    stored_links: dict[str, list[Any]] = state.get("links", {})
    for column, model in kind.references.items():
        if isinstance(stored_fields.get(column), int):
            wanted[model].add(stored_fields[column])
    for spec in kind.links:
        for entry in stored_links.get(spec.name, []):
            for column, model in spec.references.items():
                value = entry if spec.simple else entry.get(column)
                if isinstance(value, int):
                    wanted[model].add(value)
    existing = {model: await _existing(model, ids) for model, ids in wanted.items()}

    def present(model: type[Model], value: Any) -> bool:
        return value is None or value in existing.get(model, set())

    fields: dict[str, Any] = {}
    for column in kind.fields:
        if column in skipped or column not in stored_fields:
            continue
        value = stored_fields[column]
        reference = kind.references.get(column)
        if reference is not None and not present(reference, value):
            value = None
        fields[column] = _python(kind.model, column, value)
    links: LinkValues = {}
    for spec in kind.links:
        if spec.name not in stored_links:
            continue
        links[spec.name] = _restored_link(spec, stored_links[spec.name], present)
    return fields, links


def _restored_link(spec: LinkSpec, entries: list[Any], present: Any) -> list[Any]:
    restored: list[Any] = []
    for entry in entries:
        if spec.simple:
            model = spec.references.get(spec.columns[0])
            if model is None or present(model, entry):
                restored.append(_python(spec.model, spec.columns[0], entry))
            continue
        row = {column: _python(spec.model, column, entry.get(column)) for column in spec.columns}
        if spec.keeps_ids:
            row["id"] = entry.get("id")
        for column, model in spec.references.items():
            if not present(model, row.get(column)):
                row[column] = None
        if all(row.get(column) is not None for column in _required_columns(spec)):
            restored.append(row)
    return restored


def _required_columns(spec: LinkSpec) -> list[str]:
    fields_map = spec.model._meta.fields_map
    return [column for column in spec.columns if not fields_map[column].null]
