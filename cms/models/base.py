"""What every stored content type shares: timestamps, revision, trash, publication."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class UtcDatetimeField(fields.DatetimeField):
    # Stores every moment in UTC. SQLite keeps datetimes as text and compares them
    # as text, so a stored "+09:00" would sort wrongly against "+00:00" values;
    # filter values go through here too.
    def to_db_value(self, value: Any, instance: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return super().to_db_value(value, instance)

    def to_python_value(self, value: Any) -> Any:
        # SQLite hands back text: Python's own ISO parser (C) reads what we store about
        # ten times faster than Tortoise's generic one, which stays for anything else.
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = datetime.fromisoformat(value)
        return super().to_python_value(value)


class PublicationState(StrEnum):
    # The stored state. SCHEDULED is not stored: it is PUBLISHED with a future
    # `published_at`, so an item goes live at that moment with no job to run.

    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class ContentModel(Model):
    # An editable item: revision for optimistic locking, `deleted_at` for the trash.

    id = fields.IntField(primary_key=True)
    created_at = UtcDatetimeField(auto_now_add=True)
    updated_at = UtcDatetimeField(auto_now=True)
    revision = fields.IntField(default=1)
    deleted_at = UtcDatetimeField(null=True)
    # Who made it (AUTHORs may change only their own drafts) and who trashed it.
    created_by: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None  # Tortoise's column of the foreign key (typed for mypy)
    deleted_by: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    deleted_by_id: int | None

    class Meta:
        abstract = True


class PublishableModel(ContentModel):
    status = fields.CharEnumField(PublicationState, max_length=16, default=PublicationState.DRAFT)
    published_at = UtcDatetimeField(null=True)

    class Meta:
        abstract = True


def fold_for_search(text: str) -> str:
    """Case- and ё-insensitive form of a text, as full-text search reads it on every
    database (cms/services/fulltext.py; SQLite's lower() only folds ASCII)."""
    return text.casefold().replace("ё", "е")


class SearchableMixin:
    # `search_text` holds the folded text of `search_fields`, refreshed on every save.
    # Bulk inserts bypass save(): call fill_search_text() on each row first. Search no
    # longer reads it (the full-text index does the work); the column stays until a
    # migration drops it.
    search_fields: tuple[str, ...] = ()
    search_text: str

    def fill_search_text(self) -> None:
        parts = (getattr(self, name) or "" for name in self.search_fields)
        self.search_text = fold_for_search(" ".join(str(part) for part in parts))

    async def save(self, *args: Any, **kwargs: Any) -> None:
        self.fill_search_text()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and set(update_fields) & set(self.search_fields):
            kwargs["update_fields"] = [*update_fields, "search_text"]
        await super().save(*args, **kwargs)  # type: ignore[misc]
