"""The editable content types: what a revision snapshot holds for each, and how
its links are stored, derived from the declarations next to the models
(cms/models/declare.py). Editing, revisions and the trash are written once
against these descriptions instead of once per type."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tortoise.models import Model

from cms import models
from cms.models import ContentModel, PublishableModel, cooperation, news
from cms.models.declare import LIST_KINDS, Declaration, Field, Kind


@dataclass(frozen=True, slots=True)
class LinkSpec:
    """Rows that belong to an item and are rewritten with it, in `position` order.

    A link with one column (a tag, a region) is a list of plain values in a
    snapshot; one with several columns is a list of dicts."""

    name: str  # the snapshot key, also the input field: "tags", "quotes", "items"
    model: type[Model]
    parent: str  # the foreign key to the item: "news"
    columns: tuple[str, ...]
    # Foreign-key columns and what they point at (used when restoring old snapshots).
    references: Mapping[str, type[Model]] = field(default_factory=dict)
    keeps_ids: bool = False  # rows with an identity of their own (plan items)

    @property
    def simple(self) -> bool:
        return len(self.columns) == 1 and not self.keeps_ids


@dataclass(frozen=True, slots=True)
class ContentType:
    name: str  # the GraphQL type name, also used in revisions, redirects and events
    model: type[ContentModel]
    label: str  # in Russian, for messages: «новость»
    fields: tuple[str, ...]  # the columns a snapshot holds
    title_field: str = "title"
    links: tuple[LinkSpec, ...] = ()
    references: Mapping[str, type[Model]] = field(default_factory=dict)
    declaration: Declaration | None = None

    @property
    def publishable(self) -> bool:
        return issubclass(self.model, PublishableModel)

    @property
    def has_slug(self) -> bool:
        return "slug" in self.fields

    def link(self, name: str) -> LinkSpec:
        return next(spec for spec in self.links if spec.name == name)


def _model(name: str) -> type[Model]:
    model: type[Model] = getattr(models, name)
    return model


def _references(fields: tuple[Field, ...]) -> dict[str, type[Model]]:
    """Foreign-key columns among `fields` and the models they point at."""
    return {
        item.column: _model("Region" if item.kind is Kind.REGION else item.target or "")
        for item in fields
        if item.kind in (Kind.REFERENCE, Kind.REGION)
    }


def _link(declaration: Declaration, item: Field) -> LinkSpec:
    model = _model(item.link or "")
    if item.kind is Kind.PARTS:
        columns = tuple(column for part in item.parts for column in part.columns)
        return LinkSpec(
            item.name, model, declaration.parent, columns, _references(item.parts), item.keeps_ids
        )
    column = item.link_column or ""
    references: dict[str, type[Model]] = {}
    if item.kind is Kind.TAGS or item.kind is Kind.REFERENCES:
        references[column] = _model(item.target or "")
    elif item.kind is Kind.REGIONS:
        references[column] = models.Region
    return LinkSpec(item.name, model, declaration.parent, (column,), references)


def content_type(declaration: Declaration) -> ContentType:
    """What editing, revisions and the trash need of a declared type."""
    model = declaration.model
    assert issubclass(model, ContentModel)
    publishable = ("status", "published_at") if issubclass(model, PublishableModel) else ()
    return ContentType(
        declaration.name,
        model,
        declaration.label,
        (*declaration.columns, *publishable),
        title_field=declaration.title_field,
        links=tuple(
            _link(declaration, item) for item in declaration.fields if item.kind in LIST_KINDS
        ),
        references=_references(declaration.fields),
        declaration=declaration,
    )


NEWS = content_type(news.NEWS)
TAG = content_type(news.TAG)
ORGANIZATION = content_type(cooperation.ORGANIZATION)
PERSON = content_type(cooperation.PERSON)
DIRECTION = content_type(cooperation.DIRECTION)
EVENT = content_type(cooperation.EVENT)
AGREEMENT = content_type(cooperation.AGREEMENT)
ACTION_PLAN = content_type(cooperation.ACTION_PLAN)
VISIT = content_type(cooperation.VISIT)
ENTERPRISE = content_type(cooperation.ENTERPRISE)

CONTENT_TYPES: dict[str, ContentType] = {
    kind.name: kind
    for kind in (
        NEWS,
        TAG,
        ORGANIZATION,
        PERSON,
        DIRECTION,
        EVENT,
        AGREEMENT,
        ACTION_PLAN,
        VISIT,
        ENTERPRISE,
    )
}
_BY_MODEL: dict[type[Model], ContentType] = {kind.model: kind for kind in CONTENT_TYPES.values()}


def of_model(model: type[Model]) -> ContentType | None:
    return _BY_MODEL.get(model)
