"""Checking one content input against the item it changes, field by field.

A Form turns input values into column values and links (editing.Changes) and
collects every problem on its Checker, with paths like ("input", "title").
Absent values (None) leave a field unchanged; names in the input's `clear`
list empty it. References are looked up one statement per referenced type.

`declared_build` checks an input of any declared type (cms/models/declare.py)
field by field from its declaration. The input is a mapping from field names to
values: texts, dates and enum members as they are; references as ids; regions
as codes; a geo point as (lat, lon); a rich text with "<name>_format" beside it;
parts as lists of mappings (with "id" for parts that keep their identity); and
"clear", the API names of the fields to empty.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from tortoise.models import Model

from cms import models
from cms.db import flat_values
from cms.errors import Code
from cms.models import ContentModel, Region
from cms.models.declare import Field, Kind
from cms.services.columns import fits as fits_column
from cms.services.columns import length_limit
from cms.services.content_types import ContentType
from cms.services.editing import Build, Changes
from cms.services.sanitizing import BodyFormat, render_body
from cms.services.slug_history import free_slug, slug_owner
from cms.services.slugs import slugify
from cms.services.validation import Checker, clean_text

MAX_BODY_LENGTH = 500_000
MAX_LIST_LENGTH = 200
MAX_URL_LENGTH = 500

Values = Mapping[str, Any]
# A type's own checks after the declared ones (a news item's tags), given the changes.
Extra = Callable[["Form", Changes], Awaitable[None]]


def path(*parts: str | int) -> tuple[str, ...]:
    return ("input", *(str(part) for part in parts))


class Form:
    def __init__(
        self,
        check: Checker,
        item: ContentModel | None,
        clear: Iterable[str] = (),
        clearable: Mapping[str, tuple[str, ...]] | None = None,
        image_hosts: Collection[str] = (),
    ) -> None:
        self.check = check
        self.item = item
        self.image_hosts = image_hosts  # rich text keeps images only from these (or the site)
        self.fields: dict[str, Any] = {}
        self.links: dict[str, list[Any]] = {}
        clearable = clearable or {}
        self.cleared: set[str] = set()
        for name in clear:
            if name not in clearable:
                allowed = ", ".join(sorted(clearable)) or "нет"
                check.fail(
                    path("clear"),
                    Code.INVALID,
                    f"Поле «{name}» нельзя очистить; можно: {allowed}.",
                )
                continue
            self.cleared.add(name)
            for column in clearable[name]:
                self.fields[column] = None

    @property
    def creating(self) -> bool:
        return self.item is None

    def current(self, column: str) -> Any:
        """The value a column will have: the new one, else the stored one."""
        if column in self.fields:
            return self.fields[column]
        return getattr(self.item, column, None) if self.item is not None else None

    def changes(self) -> Changes:
        return Changes(fields=self.fields, links=self.links)

    # ------------------------------------------------------------ plain values

    def text(
        self,
        name: str,
        column: str,
        value: str | None,
        *,
        max_length: int,
        required: bool = False,
        multiline: bool = False,
    ) -> str | None:
        if name in self.cleared or value is None:
            if value is None and required and self.creating:
                self.check.fail(path(name), Code.REQUIRED, f"Поле «{name}» обязательно.")
            return None
        cleaned = self.check.text(
            value, path(name), required=required, max_length=max_length, multiline=multiline
        )
        if cleaned is not None or not required:
            self.fields[column] = cleaned
        return cleaned

    def value(self, name: str, column: str, value: Any, *, required: bool = False) -> None:
        """A typed value (a date, an enum) that needs no cleaning."""
        if name in self.cleared:
            return
        if value is None:
            if required and self.creating:
                self.check.fail(path(name), Code.REQUIRED, f"Поле «{name}» обязательно.")
            return
        self.fields[column] = value

    def not_before(self, start: str, end: str, end_name: str, message: str) -> None:
        first: date | None = self.current(start)
        last: date | None = self.current(end)
        if first is not None and last is not None and last < first:
            self.check.fail(path(end_name), Code.INVALID, message)

    def url(
        self, name: str, column: str, value: str | None, *, max_length: int = MAX_URL_LENGTH
    ) -> None:
        url = self.text(name, column, value, max_length=max_length)
        if url is None:
            return
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or " " in url:
            self.check.fail(path(name), Code.INVALID, "Нужен адрес сайта вида https://example.ru.")

    def location(self, name: str, lat: float | None, lon: float | None) -> None:
        if name in self.cleared or (lat is None and lon is None):
            return
        if lat is None or lon is None:
            self.check.fail(path(name), Code.REQUIRED, "Укажите и широту (lat), и долготу (lon).")
            return
        if not -90 <= lat <= 90:
            self.check.fail(
                path(name, "lat"), Code.INVALID, "Широта должна быть от -90 до 90 градусов."
            )
        if not -180 <= lon <= 180:
            self.check.fail(
                path(name, "lon"), Code.INVALID, "Долгота должна быть от -180 до 180 градусов."
            )
        self.fields["latitude"] = lat
        self.fields["longitude"] = lon

    def body(
        self, value: str | None, body_format: BodyFormat | None, image_hosts: Collection[str]
    ) -> None:
        """An HTML or Markdown body, stored sanitised with its plain text; images only
        from `image_hosts` (settings.richtext_image_hosts) or the site."""
        if "body" in self.cleared or value is None:
            return
        if len(value) > MAX_BODY_LENGTH:
            self.check.fail(
                path("body"), Code.TOO_LONG, f"Текст длиннее {MAX_BODY_LENGTH} символов."
            )
            return
        html, text = render_body(value, body_format or BodyFormat.HTML, image_hosts)
        self.fields["body_html"] = html
        self.fields["body_text"] = text

    def strings(
        self, name: str, values: Sequence[str] | None, *, max_length: int
    ) -> list[str] | None:
        """A list of short texts without blanks and repeats (industries)."""
        if values is None:
            return None
        if len(values) > MAX_LIST_LENGTH:
            self.check.fail(path(name), Code.TOO_LONG, f"Не больше {MAX_LIST_LENGTH} значений.")
            return None
        result: list[str] = []
        for index, value in enumerate(values):
            cleaned = self.check.text(
                value, path(name, index), required=True, max_length=max_length, label=name
            )
            if cleaned is not None and cleaned not in result:
                result.append(cleaned)
        self.links[name] = result
        return result

    # ------------------------------------------------------------ slugs

    async def slug(self, kind: ContentType, requested: str | None, source: str | None) -> None:
        """An editor's slug (normalised; CONFLICT when another item has or had it), or on
        creation one made from the title, suffixed -2, -3 ... when taken. A later
        title change keeps the slug: published URLs stay stable."""
        if requested is not None:
            slug = slugify(clean_text(requested))
            if not slug:
                self.check.fail(
                    path("slug"),
                    Code.INVALID,
                    "Адрес (slug) должен содержать латинские буквы или цифры.",
                )
                return
            if self.item is not None and slug == self.item.slug:  # type: ignore[attr-defined]
                return
            owner = await slug_owner(kind, slug)
            if owner is not None and (self.item is None or owner != self.item.pk):
                self.check.fail(
                    path("slug"), Code.CONFLICT, f"Адрес «{slug}» уже занят другой записью."
                )
                return
            self.fields["slug"] = slug
        elif self.creating and source:
            base = slugify(source) or kind.name.lower()
            self.fields["slug"] = await free_slug(kind, base)

    # ------------------------------------------------------------ references

    async def reference(
        self,
        name: str,
        column: str,
        model: type[Model],
        pk: int | None,
        label: str,
        *,
        required: bool = False,
    ) -> None:
        if name in self.cleared:
            return
        if pk is None:
            if required and self.creating:
                self.check.fail(path(name), Code.REQUIRED, f"Поле «{name}» обязательно.")
            return
        found = await existing_ids(model, {pk})
        if pk not in found:
            self.check.fail(path(name), Code.NOT_FOUND, f"{label} не найден(а).")
            return
        self.fields[column] = pk

    async def references(
        self,
        name: str,
        model: type[Model],
        ids: Sequence[int] | None,
        label: str,
        *,
        required: bool = False,
    ) -> list[int] | None:
        """A list of ids, in order, without repeats; each must exist."""
        if ids is None:
            return None
        if len(ids) > MAX_LIST_LENGTH:
            self.check.fail(path(name), Code.TOO_LONG, f"Не больше {MAX_LIST_LENGTH} значений.")
            return None
        unique = list(dict.fromkeys(ids))
        found = await existing_ids(model, set(unique))
        for index, pk in enumerate(ids):
            if pk not in found:
                self.check.fail(path(name, index), Code.NOT_FOUND, f"{label} не найден(а).")
        self.links[name] = [pk for pk in unique if pk in found]
        return unique

    async def region(
        self, name: str, column: str, code: str | None, *, required: bool = False
    ) -> None:
        if name in self.cleared:
            return
        if code is None:
            if required and self.creating:
                self.check.fail(path(name), Code.REQUIRED, f"Поле «{name}» обязательно.")
            return
        found = await regions_by_code([code])
        if code.strip().upper() not in found:
            self.check.fail(path(name), Code.NOT_FOUND, f"Регион с кодом «{code}» не найден.")
            return
        self.fields[column] = found[code.strip().upper()]

    async def regions(self, name: str, codes: Sequence[str] | None) -> None:
        if codes is None:
            return
        found = await regions_by_code(codes)
        ids: list[int] = []
        for index, code in enumerate(codes):
            pk = found.get(code.strip().upper())
            if pk is None:
                self.check.fail(
                    path(name, index), Code.NOT_FOUND, f"Регион с кодом «{code}» не найден."
                )
            elif pk not in ids:
                ids.append(pk)
        self.links[name] = ids

    # ------------------------------------------------------------ declared fields

    async def declared(self, kind: ContentType, values: Values) -> None:
        """Every editable field of a declared type, in input order."""
        assert kind.declaration is not None
        for field in kind.declaration.input_fields:
            await self._declared_field(kind, field, values)

    async def _declared_field(self, kind: ContentType, field: Field, values: Values) -> None:
        name, value = field.api_name, values.get(field.name)
        match field.kind:
            case Kind.TEXT:
                cleaned = self.text(
                    name,
                    field.column,
                    value,
                    max_length=length_limit(kind.model, field) or MAX_BODY_LENGTH,
                    required=field.required,
                    multiline=field.multiline,
                )
                message = field.check(cleaned) if field.check and cleaned is not None else None
                if message is not None:
                    self.check.fail(path(name), Code.INVALID, message)
            case Kind.URL:
                limit = length_limit(kind.model, field) or MAX_URL_LENGTH
                self.url(name, field.column, value, max_length=limit)
            case Kind.SLUG:
                assert kind.declaration is not None
                source = kind.declaration.field(kind.declaration.title_field).column
                await self.slug(kind, value, self.fields.get(source))
            case Kind.DATE | Kind.ENUM:
                self.value(name, field.column, value, required=field.required)
                for start, message in field.not_before:
                    self.not_before(start, field.column, name, message)
            case Kind.RICH_TEXT:
                self.body(value, values.get(f"{field.name}_format"), self.image_hosts)
            case Kind.GEO_POINT:
                lat, lon = value if value is not None else (None, None)
                self.location(name, lat, lon)
            case Kind.REFERENCE:
                model = getattr(models, field.target or "")
                await self.reference(
                    name, field.column, model, value, field.label, required=field.required
                )
            case Kind.REGION:
                await self.region(name, field.column, value, required=field.required)
            case Kind.REFERENCES:
                model = getattr(models, field.target or "")
                await self.references(name, model, value, field.label)
            case Kind.REGIONS:
                await self.regions(name, value)
            case Kind.STRINGS:
                link = getattr(models, field.link or "")
                self.strings(name, value, max_length=length_limit(link, field) or MAX_URL_LENGTH)
            case Kind.PARTS:
                await self.parts(field, value)
            case Kind.TAGS:
                pass  # the type's own check (news_editing) creates missing tags

    async def parts(self, field: Field, rows: Sequence[Mapping[str, Any]] | None) -> None:
        """The whole list of an item's parts, checked part by part. Parts that keep
        their identity are named by id: listed ids keep their rows, entries without
        an id are new, rows left out are removed."""
        if rows is None:
            return
        check = self.check
        if len(rows) > MAX_LIST_LENGTH:
            check.fail(path(field.name), Code.TOO_LONG, f"Не больше {MAX_LIST_LENGTH} значений.")
            return
        link = getattr(models, field.link or "")
        own: set[int] = set()
        if field.keeps_ids and self.item is not None:
            own = set(
                await flat_values(link.filter(**{f"{_parent_key(self.item)}": self.item.pk}), "id")
            )
        found: dict[str, set[int]] = {}
        for part in field.parts:
            if part.kind is Kind.REFERENCE:
                wanted: set[int] = {
                    value for row in rows if (value := row.get(part.name)) is not None
                }
                found[part.name] = await existing_ids(getattr(models, part.target or ""), wanted)
        result = []
        seen: set[int] = set()
        for index, row in enumerate(rows):
            values: dict[str, Any] = {}
            if field.keeps_ids:
                pk = row.get("id")
                if pk is not None and (pk not in own or pk in seen):
                    check.fail(
                        path(field.name, index, "id"),
                        Code.NOT_FOUND,
                        f"В списке «{field.label}» этой записи нет такого элемента.",
                    )
                if pk is not None:
                    seen.add(pk)
                values["id"] = pk
            for part in field.parts:
                at = path(field.name, index, part.api_name)
                value = row.get(part.name)
                if part.kind is Kind.TEXT:
                    value = check.text(
                        value,
                        at,
                        required=part.required,
                        max_length=length_limit(link, part),
                        multiline=part.multiline,
                        label=part.label,
                    )
                elif part.kind is Kind.REFERENCE and value is not None:
                    if value not in found[part.name]:
                        check.fail(at, Code.NOT_FOUND, f"{part.label} не найден(а).")
                elif part.kind is Kind.ENUM and value is None:
                    value = part.default
                values[part.column] = value
            result.append(values)
        self.links[field.name] = result


def _parent_key(item: ContentModel) -> str:
    """The foreign key of an item's link rows: "action_plan_id"."""
    declaration = item.declaration  # type: ignore[attr-defined]
    return f"{declaration.parent}_id"


def declared_build(
    kind: ContentType,
    values: Values,
    extra: Extra | None = None,
    *,
    image_hosts: Collection[str],
) -> Build:
    """Checks an input of a declared type against the item it changes (None: creating);
    rich text keeps images only from `image_hosts` (settings.richtext_image_hosts) or
    the site."""
    assert kind.declaration is not None
    clearable = kind.declaration.clearable

    async def build(check: Checker, item: ContentModel | None) -> Changes:
        form = Form(check, item, values.get("clear", ()), clearable, image_hosts)
        await form.declared(kind, values)
        changes = form.changes()
        if extra is not None:
            await extra(form, changes)
        return changes

    return build


async def existing_ids(model: type[Model], ids: set[int]) -> set[int]:
    """Which of `ids` exist (and, for content, are not in the trash): one statement."""
    wanted = {pk for pk in ids if pk > 0}
    if not wanted:
        return set()
    queryset = model.filter(id__in=wanted)
    if issubclass(model, ContentModel):
        queryset = queryset.filter(deleted_at__isnull=True)
    return set(await flat_values(queryset, "id"))


async def regions_by_code(codes: Iterable[str]) -> dict[str, int]:
    # A code longer than the column is no region's: not asked for.
    wanted = {code.strip().upper() for code in codes}
    wanted = {code for code in wanted if fits_column(Region, "code", code)}
    if not wanted:
        return {}
    return dict(await Region.filter(code__in=wanted).values_list("code", "id"))
