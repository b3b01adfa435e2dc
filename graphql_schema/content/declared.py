"""The API of a declared content type, derived from its declaration
(cms/models/declare.py): the plain fields of its output type with `from_row`, its
create/update input with the conversion to the domain's values, its payload, and
its create / update / publish / unpublish / delete mutations.

An output type adds what needs code of its own (relations through loaders, URLs)
by subclassing `output_base(...)`; everything that is a plain column is here once.
"""

from __future__ import annotations

import operator
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import strawberry

from cms.models.declare import SCALAR_KINDS, Declaration, Field, Kind, camel
from cms.services import editing
from cms.services.content_forms import Values, declared_build
from cms.services.content_types import ContentType
from cms.services.editing import Build
from cms.services.permissions import Action
from cms.services.publishing import publication_status
from cms.services.sanitizing import BodyFormat as DomainBodyFormat
from cms.services.viewer import Viewer
from graphql_schema.common import (
    BodyFormat,
    GeoPoint,
    GeoPointInput,
    PublicationStatus,
    RichText,
    enum_type,
)
from graphql_schema.context import Info
from graphql_schema.editing import (
    UPDATE_RULE,
    clear_field_description,
    deleted,
    editor,
    input_id,
    input_ids,
    payload,
    plain,
)
from graphql_schema.payloads import DeletePayload, UserError
from graphql_schema.relay import Node, global_id, parse_typed_id

REVISION_DOC = "Grows with every change; send it as expectedRevision."
_RICH_TEXT_INPUT_DOC = "HTML or Markdown, by bodyFormat; stored sanitised."


def _description(item: Field) -> str:
    return item.doc or f"{item.label[:1].upper()}{item.label[1:]}."


def _input_description(item: Field) -> str:
    """The declared input description, else one made from what the field requires."""
    if item.input_doc:
        return item.input_doc
    if item.kind is Kind.RICH_TEXT:
        return _RICH_TEXT_INPUT_DOC
    notes = ["a region code"] if item.kind is Kind.REGION else []
    if item.required:
        notes.append("required when creating")
    if item.not_before:
        notes.append("not before " + " or ".join(camel(start) for start, _ in item.not_before))
    if not notes:
        return _description(item)
    sentence = "; ".join(notes)
    return f"{sentence[:1].upper()}{sentence[1:]}."


# ---------------------------------------------------------------- output types


def _output_annotation(item: Field) -> Any:
    value: Any
    if item.kind is Kind.DATE:
        value = date
    elif item.kind is Kind.ENUM:
        assert item.enum is not None
        return enum_type(item.enum)  # an enum always has a value (its default)
    elif item.kind is Kind.GEO_POINT:
        return GeoPoint | None
    else:
        value = str
    return value if item.required or item.kind is Kind.SLUG else value | None


def _geo_point(row: Any) -> GeoPoint | None:
    lat, lon = row.latitude, row.longitude
    return None if lat is None or lon is None else GeoPoint(lat=lat, lon=lon)


def output_base(
    declaration: Declaration,
    fields: tuple[Field, ...] | None = None,
    *,
    name: str | None = None,
    publishable: bool | None = None,
    revision: bool = True,
) -> type:
    """A Strawberry type with the public plain fields of a declared type (or of a
    part, given its fields and name), private columns for the resolvers its subclass
    adds, and `from_row`. Fields come in declaration order, then publication, the
    revision and a rich text body."""
    type_name = name or declaration.name
    fields = declaration.fields if fields is None else fields
    if publishable is None:
        publishable = "status" in declaration.model._meta.fields_map
    annotations: dict[str, Any] = {"id": strawberry.ID}
    namespace: dict[str, Any] = {}
    plain_fields = [item for item in fields if item.public and item.kind in SCALAR_KINDS]
    for item in plain_fields:
        annotations[item.name] = _output_annotation(item)
        namespace[item.name] = strawberry.field(description=_description(item))
    if publishable:
        annotations |= {"status": PublicationStatus, "published_at": datetime | None}
        annotations["updated_at"] = datetime
        namespace["status"] = strawberry.field(description="Draft, scheduled or published.")
        namespace["published_at"] = strawberry.field(description="When it goes or went live.")
        namespace["updated_at"] = strawberry.field(description="The moment of the last change.")
    if revision:
        annotations["revision"] = int
        namespace["revision"] = strawberry.field(description=REVISION_DOC)
    private = ["pk"]
    for item in fields:
        if item.kind in (Kind.REFERENCE, Kind.REGION, Kind.RICH_TEXT):
            private += item.columns
    for column in private:
        annotations[column] = strawberry.Private[Any]  # type: ignore[misc]
    bodies = [item for item in fields if item.kind is Kind.RICH_TEXT]
    for item in bodies:
        namespace[item.name] = _rich_text(item)

    # Columns read as they are, in one call made once here (in C) rather than a loop
    # per row: a news list or an agreement makes dozens of these objects per request.
    copied = tuple(
        [item.name for item in plain_fields if item.kind is not Kind.GEO_POINT] + private
    )
    read = operator.attrgetter(*copied, "pk")  # "pk" last: always a tuple; the id's source
    points = [item.name for item in plain_fields if item.kind is Kind.GEO_POINT]

    def from_row(cls: type, row: Any) -> Any:
        *columns, pk = read(row)
        values: dict[str, Any] = dict(zip(copied, columns, strict=True))
        values["id"] = global_id(type_name, pk)
        for name in points:
            values[name] = _geo_point(row)
        if publishable:
            values["status"] = publication_status(row)
            values["published_at"] = row.published_at
            values["updated_at"] = row.updated_at
        if revision:
            values["revision"] = row.revision
        return cls(**values)

    namespace["from_row"] = classmethod(from_row)
    namespace["__annotations__"] = annotations
    namespace["__module__"] = __name__
    base = type(f"{type_name}Fields", (Node,), namespace)
    return strawberry.type(base, name=f"{type_name}Fields")


def _rich_text(item: Field) -> Any:
    html, text = item.columns

    def resolve(self: Any) -> RichText:
        return RichText(html=getattr(self, html), text=getattr(self, text))

    return strawberry.field(resolver=resolve, description=_description(item))


# ---------------------------------------------------------------- inputs


def _input_annotation(item: Field, parts: type | None) -> Any:
    match item.kind:
        case Kind.DATE:
            return date | None
        case Kind.ENUM:
            assert item.enum is not None
            return enum_type(item.enum) | None
        case Kind.GEO_POINT:
            return GeoPointInput | None
        case Kind.REFERENCE:
            return strawberry.ID | None
        case Kind.REFERENCES:
            return list[strawberry.ID] | None
        case Kind.REGIONS | Kind.STRINGS | Kind.TAGS:
            return list[str] | None
        case Kind.PARTS:
            return list[parts] | None  # type: ignore[valid-type]
    return str | None


def _part_input(item: Field) -> type:
    """The input of one part (a plan item, a quote): required values are non-null."""
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {}
    if item.keeps_ids:
        annotations["id"] = strawberry.ID | None
        namespace["id"] = strawberry.field(default=None, description=item.id_doc)
    for part in item.parts:
        name = part.input_name or part.name
        if part.required:
            annotation = strawberry.ID if part.kind is Kind.REFERENCE else str
            annotations[name] = annotation
            namespace[name] = strawberry.field(description=_description(part))
            continue
        annotations[name] = _input_annotation(part, None)
        namespace[name] = strawberry.field(default=None, description=_input_description(part))
    namespace["__annotations__"] = annotations
    namespace["__module__"] = __name__
    name = f"{item.link}Input"
    return strawberry.input(type(name, (), namespace), name=name, description=item.doc)


def input_type(declaration: Declaration) -> type:
    """The create/update input of a declared type, with `to_domain()`."""
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {}
    parts: dict[str, type] = {}
    for item in declaration.input_fields:
        if item.kind is Kind.PARTS:
            parts[item.name] = _part_input(item)
        name = item.input_name or item.name
        annotations[name] = _input_annotation(item, parts.get(item.name))
        namespace[name] = strawberry.field(default=None, description=_input_description(item))
        if item.kind is Kind.RICH_TEXT:
            annotations[f"{name}_format"] = BodyFormat
            namespace[f"{name}_format"] = strawberry.field(
                default=DomainBodyFormat.HTML, description=f"How {item.api_name} is written."
            )
    clearable = list(declaration.clearable)
    if clearable:
        annotations["clear"] = list[str] | None
        namespace["clear"] = strawberry.field(
            default=None, description=clear_field_description(clearable)
        )

    def to_domain(self: Any) -> Values:
        return domain_values(declaration, self)

    namespace["to_domain"] = to_domain
    namespace["__annotations__"] = annotations
    namespace["__module__"] = __name__
    name = f"{declaration.name}Input"
    description = f"{declaration.input_description or declaration.description} {UPDATE_RULE}"
    return strawberry.input(type(name, (), namespace), name=name, description=description)


def _domain_value(item: Field, value: Any) -> Any:
    match item.kind:
        case Kind.REFERENCE:
            return input_id(value, item.target or "")
        case Kind.REFERENCES:
            return input_ids(value, item.target or "")
        case Kind.GEO_POINT:
            value = plain(value)
            return None if value is None else (value.lat, value.lon)
        case Kind.PARTS:
            rows = plain(value)
            return None if rows is None else [_part_values(item, row) for row in rows]
    return plain(value)


def _part_values(item: Field, row: Any) -> dict[str, Any]:
    values = {
        part.name: _domain_value(part, getattr(row, part.input_name or part.name))
        for part in item.parts
    }
    if item.keeps_ids:
        values["id"] = input_id(row.id, item.link or "")
    return values


def domain_values(declaration: Declaration, data: Any) -> Values:
    """An input's values as the domain's forms read them (content_forms.Values)."""
    values: dict[str, Any] = {}
    for item in declaration.input_fields:
        values[item.name] = _domain_value(item, getattr(data, item.input_name or item.name))
        if item.kind is Kind.RICH_TEXT:
            values[f"{item.name}_format"] = plain(getattr(data, f"{item.name}_format"))
    values["clear"] = tuple(plain(getattr(data, "clear", None)) or ())
    return values


# ---------------------------------------------------------------- mutations


def payload_type(name: str, field_name: str, output: type) -> type:
    namespace = {
        "__annotations__": {field_name: output | None, "errors": list[UserError]},
        "__module__": __name__,
    }
    return strawberry.type(
        type(f"{name}Payload", (), namespace),
        name=f"{name}Payload",
        description=f"The {name} after the change, or what was wrong with the input.",
    )


_DOCS = {
    "create": "A new item (a draft where it is published); the required fields must be given.",
    "update": "A stale expectedRevision is a CONFLICT and changes nothing.",
    "publish": "Publishes now, or at `at` (a future moment schedules it).",
    "unpublish": "Back to a draft.",
    "delete": "Moves the item to the trash.",
}


@dataclass(frozen=True)
class ContentMutations:
    """The mutations of one content type: its output type, where the payload holds
    it, its form (the declared one unless the type has its own; given the input's
    values, the editor and the hosts rich text may show images from) and descriptions."""

    kind: ContentType
    output: type
    payload_field: str | None = None  # default: the type's name in snake case
    form: Callable[[Values, Viewer, Collection[str]], Build] | None = None
    docs: Mapping[str, str] = field(default_factory=dict)
    payload: type | None = None  # default: made here, {<payload_field>, errors}

    def fields(self) -> dict[str, Any]:
        kind = self.kind
        declaration = kind.declaration
        assert declaration is not None
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in kind.name).lstrip("_")
        payload_field = self.payload_field or snake
        payload_of = self.payload or payload_type(kind.name, payload_field, self.output)
        content_input = input_type(declaration)
        convert = self.output.from_row  # type: ignore[attr-defined]
        of = declaration.of_label
        form = self.form or (
            lambda values, viewer, hosts: declared_build(kind, values, image_hosts=hosts)
        )

        async def create(info: Info, input: Any) -> Any:
            viewer = editor(info, f"Создание {of}")
            write = editing.create(
                kind,
                viewer,
                form(input.to_domain(), viewer, info.context.settings.richtext_image_hosts),
            )
            return await payload(payload_of, payload_field, convert, write)

        async def update(
            info: Info,
            id: strawberry.ID,
            input: Any,
            expected_revision: int | None = None,
        ) -> Any:
            viewer = editor(info, f"Изменение {of}")
            write = editing.update(
                kind,
                viewer,
                parse_typed_id(id, kind.name),
                form(input.to_domain(), viewer, info.context.settings.richtext_image_hosts),
                expected_revision=expected_revision,
            )
            return await payload(payload_of, payload_field, convert, write)

        async def publish(info: Info, id: strawberry.ID, at: datetime | None = None) -> Any:
            viewer = editor(info, f"Публикация {of}", Action.PUBLISH)
            write = editing.publish(kind, viewer, parse_typed_id(id, kind.name), at)
            return await payload(payload_of, payload_field, convert, write)

        async def unpublish(info: Info, id: strawberry.ID) -> Any:
            viewer = editor(info, f"Снятие {of} с публикации", Action.PUBLISH)
            write = editing.unpublish(kind, viewer, parse_typed_id(id, kind.name))
            return await payload(payload_of, payload_field, convert, write)

        async def delete(info: Info, id: strawberry.ID) -> DeletePayload:
            viewer = editor(info, f"Удаление {of}")
            return await deleted(id, editing.delete(kind, viewer, parse_typed_id(id, kind.name)))

        create.__annotations__ |= {"input": content_input, "return": payload_of}
        update.__annotations__ |= {"input": content_input, "return": payload_of}
        publish.__annotations__["return"] = payload_of
        unpublish.__annotations__["return"] = payload_of
        resolvers: dict[str, Callable[..., Awaitable[Any]]] = {
            "create": create,
            "update": update,
            "publish": publish,
            "unpublish": unpublish,
            "delete": delete,
        }
        operations = (
            ("create", "update", "publish", "unpublish", "delete")
            if kind.publishable
            else ("create", "update", "delete")
        )
        return {
            f"{operation}_{snake}": strawberry.mutation(
                resolver=resolvers[operation],
                description=self.docs.get(operation, _DOCS[operation]),
            )
            for operation in operations
        }


def mutation_type(name: str, *types: ContentMutations, **more: Any) -> type:
    """A mutation type holding the mutations of `types` in order, then `more`."""
    namespace: dict[str, Any] = {"__module__": __name__}
    for mutations in types:
        namespace |= mutations.fields()
    namespace |= more
    return strawberry.type(type(name, (), namespace), name=name)
