"""Loading the seed content (`cms/fixtures/amur_altai.json`) into the database.

The fixture is plain data: every entity names the others by natural key (region
code, organisation name, person's full name, visit title, slug), and each entry
is read by its type's declaration (cms/models/declare.py), field by field. Loading
finds each item by its key and writes it through the editing service, all in one
transaction: a missing item is created (revision 1, a "created" event), one that
differs from the fixture gets a new revision; a second run changes nothing, and a
failure writes nothing. Seeding never deletes: links and rows added by editors
stay where they are, and items in the trash stay there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from tortoise.models import Model
from tortoise.transactions import in_transaction

from cms.errors import ValidationFailedError
from cms.models import ContentModel, PublicationState, Region, Role
from cms.models.declare import Field, Kind
from cms.services import content_types, editing
from cms.services.content_forms import declared_build
from cms.services.content_types import ContentType
from cms.services.editing import Build, Changes
from cms.services.revisions import jsonable, read_links
from cms.services.richtext import html_to_text
from cms.services.sanitizing import BodyFormat
from cms.services.slugs import slugify
from cms.services.validation import Checker
from cms.services.viewer import Viewer

DEFAULT_FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "amur_altai.json"

M = TypeVar("M", bound=Model)
E = TypeVar("E", bound=StrEnum)
Progress = Callable[[str], None]


class SeedError(ValueError):
    """The fixture is malformed or refers to something it does not define."""


@dataclass(slots=True)
class SeedReport:
    """Rows inserted and rows changed, by model name; both empty after a repeated run."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    @property
    def total_created(self) -> int:
        return sum(self.created.values())

    @property
    def total_updated(self) -> int:
        return sum(self.updated.values())

    @property
    def changed(self) -> bool:
        return bool(self.total_created or self.total_updated)

    def summary(self) -> str:
        if not self.changed:
            return "Начальные данные уже загружены: ничего не изменилось."
        parts = [f"создано строк: {self.total_created}", f"изменено: {self.total_updated}"]
        details = ", ".join(f"{name} +{count}" for name, count in sorted(self.created.items()))
        return "; ".join(parts) + (f" ({details})" if details else "")


def read_fixture(path: Path | None = None) -> dict[str, Any]:
    """The fixture as a dict (the default one when `path` is None)."""
    source = path or DEFAULT_FIXTURE
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SeedError(f"Не удалось прочитать {source}: {error}") from error
    if not isinstance(data, dict):
        raise SeedError(f"{source}: ожидался объект JSON на верхнем уровне")
    return data


async def load_seed(
    path: Path | None = None,
    *,
    progress: Progress | None = None,
    image_hosts: Collection[str] = (),
) -> SeedReport:
    """Load the fixture at `path` (default: the Amur–Altai seed) idempotently; its
    bodies keep images only from `image_hosts` (settings.richtext_image_hosts) or
    the site, as an editor's would."""
    data = read_fixture(path)
    loader = _Loader(progress, image_hosts)
    async with in_transaction():
        await loader.load(data)
    return loader.report


# ---------------------------------------------------------------- parsing helpers


def _text(entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SeedError(f"Поле {key!r} обязательно: {_describe(entry)}")
    return value


def _optional_text(entry: Mapping[str, Any], key: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise SeedError(f"Поле {key!r} должно быть строкой: {_describe(entry)}")
    return value


def _list(entry: Mapping[str, Any], key: str) -> list[Any]:
    value = entry.get(key, [])
    if not isinstance(value, list):
        raise SeedError(f"Поле {key!r} должно быть списком: {_describe(entry)}")
    return value


def _date(entry: Mapping[str, Any], key: str, *, required: bool = False) -> date | None:
    value = entry.get(key)
    if value is None:
        if required:
            raise SeedError(f"Поле {key!r} обязательно: {_describe(entry)}")
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError) as error:
        raise SeedError(f"Поле {key!r}: не дата ГГГГ-ММ-ДД: {value!r}") from error


def _datetime(entry: Mapping[str, Any], key: str) -> datetime | None:
    value = entry.get(key)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError) as error:
        raise SeedError(f"Поле {key!r}: не дата и время ISO 8601: {value!r}") from error
    if moment.tzinfo is None:
        raise SeedError(f"Поле {key!r}: укажите часовой пояс: {value!r}")
    return moment.astimezone(UTC)


def _float(entry: Mapping[str, Any], key: str) -> float | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SeedError(f"Поле {key!r} должно быть числом: {_describe(entry)}")
    return float(value)


def _enum(enum: type[E], entry: Mapping[str, Any], key: str, default: E) -> E:
    value = entry.get(key)
    if value is None:
        return default
    try:
        return enum(value)
    except ValueError as error:
        allowed = ", ".join(member.value for member in enum)
        raise SeedError(f"Поле {key!r}: {value!r} не из ({allowed})") from error


def _body(entry: Mapping[str, Any]) -> tuple[str, str]:
    """`body` is a list of HTML blocks: (body_html, body_text)."""
    blocks = _list(entry, "body")
    if not all(isinstance(block, str) for block in blocks):
        raise SeedError(f"Поле 'body' — список строк HTML: {_describe(entry)}")
    body_html = "\n".join(blocks)
    return body_html, html_to_text(body_html)


def _describe(entry: Mapping[str, Any]) -> str:
    for key in ("slug", "code", "full_name", "name", "title"):
        if isinstance(entry.get(key), str):
            return f"{key}={entry[key]!r}"
    return repr(dict(entry))[:80]


def _unique(values: list[Any], what: str, owner: str) -> list[Any]:
    if len(set(values)) != len(values):
        raise SeedError(f"{owner}: повторы в списке {what}")
    return values


# ---------------------------------------------------------------- the loader

# The seed writes as an administrator with no account: its revisions have no author.
SEED_VIEWER = Viewer(role=Role.ADMIN)
# Fixture sections in the order they refer to each other, with their content types.
SECTIONS: tuple[tuple[str, str, ContentType | None], ...] = (
    ("regions", "Регионы", None),
    ("organizations", "Организации", content_types.ORGANIZATION),
    ("persons", "Персоны", content_types.PERSON),
    ("tags", "Теги", content_types.TAG),
    ("directions", "Направления сотрудничества", content_types.DIRECTION),
    ("events", "События", content_types.EVENT),
    ("enterprises", "Предприятия", content_types.ENTERPRISE),
    ("agreements", "Соглашения", content_types.AGREEMENT),
    ("action_plans", "Планы мероприятий", content_types.ACTION_PLAN),
    ("visits", "Визиты", content_types.VISIT),
    ("news", "Новости", content_types.NEWS),
)


class _Loader:
    """Reads each entry by its type's declaration and writes it through the editing
    service, like an editor would: new items get revision 1 and a "created" event,
    changed ones a new revision. Lists only grow: links an editor added stay."""

    def __init__(self, progress: Progress | None, image_hosts: Collection[str]) -> None:
        self.report = SeedReport()
        self._progress = progress
        self._image_hosts = image_hosts
        # model name -> natural key -> id of every entity the fixture defines
        self._ids: dict[str, dict[str, int]] = {}

    def _say(self, message: str) -> None:
        if self._progress is not None:
            self._progress(message)

    def _count(self, counts: dict[str, int], name: str, number: int = 1) -> None:
        if number:
            counts[name] = counts.get(name, 0) + number

    def _remember(self, model: str, key: str, pk: int) -> None:
        known = self._ids.setdefault(model, {})
        if key in known:
            raise SeedError(f"{model}: {key!r} встречается в файле дважды")
        known[key] = pk

    def _ref(self, model: str, key: Any, owner: str) -> int:
        if not isinstance(key, str):
            raise SeedError(f"{owner}: ссылка на {model} должна быть строкой, не {key!r}")
        try:
            return self._ids.get(model, {})[key]
        except KeyError:
            raise SeedError(f"{owner}: {model} {key!r} не описан в файле") from None

    async def load(self, data: Mapping[str, Any]) -> None:
        unknown = set(data) - {key for key, _, _ in SECTIONS} - {"_about"}
        if unknown:
            raise SeedError(f"Неизвестные разделы: {', '.join(sorted(unknown))}")
        for key, label, kind in SECTIONS:
            entries = _list(data, key)
            self._say(f"{label}: {len(entries)}")
            for entry in entries:
                if not isinstance(entry, dict):
                    raise SeedError(f"{key}: ожидался объект, не {entry!r}")
                if kind is None:
                    await self._region(entry)
                else:
                    await self._content(kind, entry)

    async def _region(self, entry: Mapping[str, Any]) -> None:
        # Regions are reference data, not content: no revisions, no events.
        code, name = _text(entry, "code"), _text(entry, "name")
        row = await Region.get_or_none(code=code)
        if row is None:
            row = await Region.create(code=code, name=name)
            self._count(self.report.created, "Region")
        elif row.name != name:
            row.name = name
            await row.save(update_fields=["name"])
            self._count(self.report.updated, "Region")
        self._remember("Region", code, row.pk)

    # ------------------------------------------------------------ content

    async def _content(self, kind: ContentType, entry: Mapping[str, Any]) -> None:
        declaration = kind.declaration
        assert declaration is not None
        title = _text(entry, declaration.title_field)
        has_slug = kind.has_slug
        key = (entry.get("slug") or slugify(title)) if has_slug else title
        values = self._values(kind, entry, key)
        key_column = "slug" if has_slug else declaration.field(declaration.title_field).column
        item = await kind.model.filter(**{key_column: key}).order_by("id").first()
        self._remember(kind.model.__name__, key, item.pk if item else 0)
        if item is not None and item.deleted_at is not None:
            return  # an editor put it in the trash: seeding never brings it back
        check = Checker()
        changes = await declared_build(kind, values, image_hosts=self._image_hosts)(check, item)
        if "tags" in values:
            changes.links["tags"] = values["tags"]
        changes.fields |= self._publication(kind, entry)
        try:
            check.raise_if_any()
        except ValidationFailedError as error:
            problems = "; ".join(problem.message for problem in error.errors)
            raise SeedError(f"{kind.label} {key!r}: {problems}") from None
        if item is None:
            item = await editing.create(kind, SEED_VIEWER, _built(changes))
            self._ids[kind.model.__name__][key] = item.pk
            self._count(self.report.created, kind.model.__name__)
            for spec in kind.links:
                number = len(changes.links.get(spec.name, []))
                self._count(self.report.created, spec.model.__name__, number)
            return
        changes = await self._differences(kind, item, changes)
        if changes.fields or changes.links:
            await editing.update(kind, SEED_VIEWER, item.pk, _built(changes), action="updated")
            self._count(self.report.updated, kind.model.__name__)

    def _values(self, kind: ContentType, entry: Mapping[str, Any], owner: str) -> dict[str, Any]:
        """The fixture entry as the declared form reads an input (content_forms.Values)."""
        assert kind.declaration is not None
        values: dict[str, Any] = {}
        for declared in kind.declaration.input_fields:
            values[declared.name] = self._value(declared, entry, owner)
            if declared.kind is Kind.RICH_TEXT:
                values[f"{declared.name}_format"] = BodyFormat.HTML
        if kind.has_slug:
            values["slug"] = owner
        if values.get("quotes"):
            body_text = html_to_text(values.get("body") or "")
            for quote in values["quotes"]:
                if quote["text"] not in body_text:
                    raise SeedError(f"{owner}: цитаты нет в тексте новости: {quote['text'][:60]!r}")
        return values

    def _value(self, field: Field, entry: Mapping[str, Any], owner: str) -> Any:
        name = field.name
        match field.kind:
            case Kind.TEXT | Kind.URL | Kind.SLUG | Kind.REGION:
                return _text(entry, name) if field.required else _optional_text(entry, name)
            case Kind.DATE:
                return _date(entry, name, required=field.required)
            case Kind.ENUM:
                assert field.enum is not None
                return _enum(field.enum, entry, name, field.default)
            case Kind.GEO_POINT:
                lat, lon = _float(entry, "latitude"), _float(entry, "longitude")
                return None if lat is None and lon is None else (lat, lon)
            case Kind.RICH_TEXT:
                return _body(entry)[0]
            case Kind.REFERENCE:
                key = entry.get(name)
                return None if key is None else self._ref(field.target or "", key, owner)
            case Kind.REFERENCES | Kind.TAGS:
                keys = _list(entry, name)
                return _unique([self._ref(field.target or "", k, owner) for k in keys], name, owner)
            case Kind.REGIONS | Kind.STRINGS:
                return _unique(_list(entry, name), name, owner)
            case Kind.PARTS:
                return [self._part(field, part, owner) for part in _list(entry, name)]
        raise SeedError(f"{owner}: поле {name!r} не читается из файла")

    def _part(self, field: Field, entry: Any, owner: str) -> dict[str, Any]:
        if not isinstance(entry, dict):
            raise SeedError(f"{owner}: элемент списка {field.name!r} должен быть объектом")
        return {part.name: self._value(part, entry, owner) for part in field.parts}

    def _publication(self, kind: ContentType, entry: Mapping[str, Any]) -> dict[str, Any]:
        if not kind.publishable:
            return {}
        return {
            "status": _enum(PublicationState, entry, "status", PublicationState.DRAFT),
            "published_at": _datetime(entry, "published_at"),
        }

    async def _differences(
        self, kind: ContentType, item: ContentModel, changes: Changes
    ) -> Changes:
        """What the fixture changes in a stored item. Lists keep what editors added:
        the fixture's entries come first, the others after them."""
        fields = {
            column: value
            for column, value in changes.fields.items()
            if jsonable(getattr(item, column)) != jsonable(value)
        }
        current = (await read_links(kind, [item.pk]))[item.pk]
        links: dict[str, list[Any]] = {}
        for spec in kind.links:
            if spec.name not in changes.links:
                continue
            stored, wanted = current[spec.name], list(changes.links[spec.name])
            if spec.simple:
                merged = wanted + [value for value in stored if value not in wanted]
            else:
                if spec.keeps_ids:
                    for row, old in zip(wanted, stored, strict=False):
                        row["id"] = old["id"]
                merged = wanted + stored[len(wanted) :]
            if jsonable(merged) != jsonable(stored):
                links[spec.name] = merged
        return Changes(fields=fields, links=links)


def _built(changes: Changes) -> Build:
    """A build that answers with changes checked beforehand."""

    async def build(check: Checker, item: Any) -> Changes:
        return changes

    return build
