"""How a content type describes its fields once, next to its model.

A declaration lists each field an editor can see or change: its kind, whether it
is required, editable, searchable and public, its limits and its checks, and how
it is called for people (a Russian label used in messages). Everything else reads
it: the revision snapshot and the trash (cms/services/content_types.py), the
checks of an input (cms/services/content_forms.py), the seed loader, and in the
API the output type, the create/update input and its conversion
(graphql_schema/content/declared.py). Adding a field is adding it to the model and here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tortoise.models import Model


class Kind(StrEnum):
    TEXT = "text"  # plain text, one line or several
    URL = "url"  # an http(s) address
    SLUG = "slug"  # the item's address; made from the title field when absent
    RICH_TEXT = "rich_text"  # HTML or Markdown in, sanitised HTML and plain text stored
    DATE = "date"
    ENUM = "enum"
    GEO_POINT = "geo_point"  # latitude and longitude columns, {lat, lon} in the API
    REFERENCE = "reference"  # one other item, by id
    REGION = "region"  # a region, by its ISO 3166-2 code
    REFERENCES = "references"  # an ordered list of other items (a link table)
    REGIONS = "regions"  # an ordered list of regions, by code
    STRINGS = "strings"  # an ordered list of short texts (a link table)
    TAGS = "tags"  # tags by name; unknown names create tags
    PARTS = "parts"  # rows that belong to the item: plan items, quotes


class SearchWeight(StrEnum):
    """How much a match in a field counts in full-text search (cms/services/fulltext.py):
    PostgreSQL's weight classes A, B and C."""

    TITLE = "A"  # titles, names, numbers
    LEAD = "B"  # leads, summaries, descriptions, positions, places
    BODY = "C"  # bodies and anything else


LIST_KINDS = frozenset({Kind.REFERENCES, Kind.REGIONS, Kind.STRINGS, Kind.TAGS, Kind.PARTS})
# Kinds whose value lives in the item's own columns and is shown as a plain value.
SCALAR_KINDS = frozenset({Kind.TEXT, Kind.URL, Kind.SLUG, Kind.DATE, Kind.ENUM, Kind.GEO_POINT})

Check = Callable[[str], str | None]  # a cleaned value -> a message in Russian, or None


def camel(name: str) -> str:
    """The API's name of a Python name: short_name -> shortName."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # the Python name; the API calls it camel(name)
    kind: Kind
    label: str  # in Russian, for messages: «ИНН»
    required: bool = False  # must be given when creating
    editable: bool = True  # part of the create/update input
    # Searched by full text, with this weight (and folded into the search text of the
    # types that keep one); None: not searched.
    searchable: SearchWeight | None = None
    public: bool = True  # shown in the API's output type
    # Texts: the longest value. A CharField column states it already
    # (cms/services/columns.length_limit reads it there); a TextField has none, so
    # the declaration gives one.
    max_length: int | None = None
    multiline: bool = False
    target: str | None = None  # the referenced model: "Organization", "MediaAsset"
    enum: type[StrEnum] | None = None
    default: Any = None  # what an absent enum becomes when creating
    check: Check | None = None  # a further check of a cleaned text value
    doc: str | None = None  # the output field's description (else the label)
    input_doc: str | None = None  # the input field's description
    input_name: str | None = None  # when the input calls it otherwise: "person_id"
    link: str | None = None  # lists: the link model, "NewsTag"
    link_column: str | None = None  # lists: its value column, "tag_id"
    parts: tuple[Field, ...] = ()  # PARTS: the fields of one part
    keeps_ids: bool = False  # PARTS: parts keep their identity across edits
    id_doc: str | None = None  # PARTS that keep ids: the description of the part's id
    # DATE: the fields it may not precede, each with its message in Russian.
    not_before: tuple[tuple[str, str], ...] = ()

    @property
    def api_name(self) -> str:
        return camel(self.input_name or self.name)

    @property
    def columns(self) -> tuple[str, ...]:
        """The item's columns that hold this field (none for lists)."""
        if self.kind in LIST_KINDS:
            return ()
        if self.kind is Kind.RICH_TEXT:
            return (f"{self.name}_html", f"{self.name}_text")
        if self.kind is Kind.GEO_POINT:
            return ("latitude", "longitude")
        if self.kind in (Kind.REFERENCE, Kind.REGION):
            return (f"{self.name}_id",)
        return (self.name,)

    @property
    def column(self) -> str:
        return self.columns[0]

    @property
    def clearable(self) -> bool:
        """An optional value an update may empty by naming it in `clear`."""
        return (
            self.editable
            and not self.required
            and self.kind not in LIST_KINDS
            and self.kind not in (Kind.SLUG, Kind.ENUM)
        )


@dataclass(frozen=True, slots=True)
class Declaration:
    """One content type: its model, its fields in input order, and its names."""

    name: str  # the GraphQL type name, also used in revisions, redirects and events
    model: type[Model]
    label: str  # in Russian, for messages: «новость»
    of_label: str  # the same in the genitive: «Создание новости»
    description: str  # the output type's description in the API
    fields: tuple[Field, ...]
    parent: str  # the foreign key name link rows use for the item: "news"
    title_field: str = "title"
    input_description: str | None = None  # the input's description (before the update rule)

    def field(self, name: str) -> Field:
        return next(item for item in self.fields if item.name == name)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(column for item in self.fields for column in item.columns)

    @property
    def input_fields(self) -> tuple[Field, ...]:
        """The editable fields in input order: the slug follows the field it is made from."""
        editable = [item for item in self.fields if item.editable and item.kind is not Kind.SLUG]
        slugs = [item for item in self.fields if item.editable and item.kind is Kind.SLUG]
        at = next((i + 1 for i, item in enumerate(editable) if item.name == self.title_field), 0)
        return (*editable[:at], *slugs, *editable[at:])

    @property
    def search_weights(self) -> dict[str, SearchWeight]:
        """The searched columns (the plain text of rich text) and their weights."""
        return {
            item.columns[-1] if item.kind is Kind.RICH_TEXT else item.column: item.searchable
            for item in self.fields
            if item.searchable is not None
        }

    @property
    def search_columns(self) -> tuple[str, ...]:
        return tuple(self.search_weights)

    @property
    def clearable(self) -> dict[str, tuple[str, ...]]:
        """What an input's `clear` may name, and the columns that empties."""
        return {item.api_name: item.columns for item in self.fields if item.clearable}


def declare(declaration: Declaration) -> Declaration:
    """Registers a declaration with its model: its search text and full-text index
    follow it."""
    if declaration.search_columns:
        declaration.model.search_fields = declaration.search_columns  # type: ignore[attr-defined]
        declaration.model.search_weights = declaration.search_weights  # type: ignore[attr-defined]
    declaration.model.declaration = declaration  # type: ignore[attr-defined]
    return declaration
