"""Every indexed type is searched by the fields its declaration marks searchable,
with their weights: one place per field."""

from __future__ import annotations

from cms.models.declare import Declaration
from cms.services import fulltext


def test_searched_fields_come_from_the_declarations() -> None:
    for kind, model in fulltext.SEARCH_MODELS.items():
        declaration: Declaration = model.declaration  # type: ignore[attr-defined]
        assert declaration.name == kind
        assert fulltext.search_fields(model) == declaration.search_columns, kind
        assert fulltext.search_fields(model), kind
        grouped = fulltext.weighted_fields(model)
        for column, weight in declaration.search_weights.items():
            assert column in grouped[weight.value], (kind, column)
    assert not hasattr(fulltext, "_FALLBACK_FIELDS")


def test_titles_and_names_weigh_most() -> None:
    for model in fulltext.SEARCH_MODELS.values():
        declaration: Declaration = model.declaration  # type: ignore[attr-defined]
        title = declaration.field(declaration.title_field)
        assert title.searchable is not None
        assert title.searchable.value == "A", declaration.name
