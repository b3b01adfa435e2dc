"""The content declarations agree with the models they describe (the models are
read once Tortoise has set them up, hence the database fixture)."""

from __future__ import annotations

import pytest

from cms.models import ContentModel, PublishableModel
from cms.models.declare import Kind
from cms.services.columns import length_limit
from cms.services.content_types import CONTENT_TYPES, ContentType
from tests.conftest import TestDatabase

# Columns every content model has that no declaration lists: identity, bookkeeping,
# publication (written by publish/unpublish) and the folded search text.
BOOKKEEPING = {
    "id",
    "created_at",
    "updated_at",
    "revision",
    "deleted_at",
    "created_by_id",
    "deleted_by_id",
    "status",
    "published_at",
    "search_text",
}
KINDS = sorted(CONTENT_TYPES.values(), key=lambda kind: kind.name)


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
async def test_every_column_is_declared_once(kind: ContentType, seeded_db: TestDatabase) -> None:
    assert kind.declaration is not None
    model = kind.model
    columns = set(model._meta.db_fields)
    declared = list(kind.declaration.columns)
    assert len(declared) == len(set(declared)), "a column declared twice"
    assert set(declared) == columns - BOOKKEEPING


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
async def test_links_and_limits_match_the_tables(
    kind: ContentType, seeded_db: TestDatabase
) -> None:
    for spec in kind.links:
        fields_map = spec.model._meta.fields_map
        assert f"{spec.parent}_id" in fields_map, spec.name
        for column in spec.columns:
            assert column in fields_map, (spec.name, column)
    assert kind.declaration is not None
    for field in kind.declaration.fields:
        if field.kind in (Kind.TEXT, Kind.URL):
            # A CharField states its limit; only a TextField's comes from the declaration.
            column = kind.model._meta.fields_map[field.column]
            assert (field.max_length is None) == hasattr(column, "max_length"), field.name
            assert length_limit(kind.model, field), field.name


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_snapshot_holds_publication_of_publishable_types(kind: ContentType) -> None:
    assert issubclass(kind.model, ContentModel)
    publishable = issubclass(kind.model, PublishableModel)
    assert ("status" in kind.fields) is publishable
    assert kind.publishable is publishable
