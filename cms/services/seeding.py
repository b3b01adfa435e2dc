"""Loading the seed content (`cms/fixtures/amur_altai.json`) into the database.

The fixture is plain data: every entity names the others by natural key (region
code, organisation name, person's full name, visit title, slug). Loading finds
each row by its key, creates it when missing and updates the fields that differ
from the fixture, all in one transaction: a second run changes nothing, and a
failure writes nothing. Seeding never deletes: links and rows added by editors
stay where they are.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from tortoise.models import Model
from tortoise.transactions import in_transaction

from cms.models import (
    ActionItemStatus,
    ActionPlan,
    ActionPlanDirection,
    ActionPlanItem,
    ActionPlanSignatory,
    Agreement,
    AgreementParty,
    AgreementStatus,
    ContentModel,
    CooperationDirection,
    Enterprise,
    EnterpriseIndustry,
    Event,
    News,
    NewsAgreement,
    NewsEvent,
    NewsRegion,
    NewsTag,
    Organization,
    OrganizationKind,
    Person,
    PublicationState,
    Quote,
    Region,
    Tag,
    Visit,
    VisitEnterprise,
)
from cms.services.richtext import html_to_text
from cms.services.slugs import slugify

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


async def load_seed(path: Path | None = None, *, progress: Progress | None = None) -> SeedReport:
    """Load the fixture at `path` (default: the Amur–Altai seed) idempotently."""
    data = read_fixture(path)
    loader = _Loader(progress)
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


class _Loader:
    def __init__(self, progress: Progress | None) -> None:
        self.report = SeedReport()
        self._progress = progress
        # natural key -> id of every entity the fixture defines
        self._ids: dict[str, dict[str, int]] = {}

    def _say(self, message: str) -> None:
        if self._progress is not None:
            self._progress(message)

    def _remember(self, kind: str, key: str, row: Model) -> None:
        known = self._ids.setdefault(kind, {})
        if key in known:
            raise SeedError(f"{kind}: {key!r} встречается в файле дважды")
        known[key] = row.pk

    def _ref(self, kind: str, key: Any, owner: str) -> int:
        if not isinstance(key, str):
            raise SeedError(f"{owner}: ссылка на {kind} должна быть строкой, не {key!r}")
        try:
            return self._ids.get(kind, {})[key]
        except KeyError:
            raise SeedError(f"{owner}: {kind} {key!r} не описан в файле") from None

    def _optional_ref(self, kind: str, key: Any, owner: str) -> int | None:
        return None if key is None else self._ref(kind, key, owner)

    def _refs(self, kind: str, keys: list[Any], owner: str) -> list[int]:
        return _unique([self._ref(kind, key, owner) for key in keys], kind, owner)

    async def _upsert(self, model: type[M], key: dict[str, Any], values: dict[str, Any]) -> M:
        """The row matching `key`: created with `values`, or updated where they differ."""
        row = await model.filter(**key).order_by("id").first()
        name = model.__name__
        if row is None:
            row = await model.create(**key, **values)
            self.report.created[name] = self.report.created.get(name, 0) + 1
            return row
        changed = [field for field, value in values.items() if getattr(row, field) != value]
        if changed:
            for field_name in changed:
                setattr(row, field_name, values[field_name])
            if isinstance(row, ContentModel):
                row.revision += 1
                changed += ["revision", "updated_at"]
            await row.save(update_fields=changed)
            self.report.updated[name] = self.report.updated.get(name, 0) + 1
        return row

    async def _links(
        self,
        link_model: type[Model],
        parent: tuple[str, int],
        child_field: str,
        child_ids: list[int],
    ) -> None:
        """Link rows parent → children, `position` in list order."""
        parent_field, parent_id = parent
        for position, child_id in enumerate(child_ids):
            await self._upsert(
                link_model,
                {parent_field: parent_id, child_field: child_id},
                {"position": position},
            )

    async def load(self, data: Mapping[str, Any]) -> None:
        sections: list[tuple[str, str, Callable[[Mapping[str, Any]], Any]]] = [
            ("regions", "Регионы", self._region),
            ("organizations", "Организации", self._organization),
            ("persons", "Персоны", self._person),
            ("tags", "Теги", self._tag),
            ("directions", "Направления сотрудничества", self._direction),
            ("events", "События", self._event),
            ("enterprises", "Предприятия", self._enterprise),
            ("agreements", "Соглашения", self._agreement),
            ("action_plans", "Планы мероприятий", self._action_plan),
            ("visits", "Визиты", self._visit),
            ("news", "Новости", self._news),
        ]
        unknown = set(data) - {key for key, _, _ in sections} - {"_about"}
        if unknown:
            raise SeedError(f"Неизвестные разделы: {', '.join(sorted(unknown))}")
        for key, label, load_one in sections:
            entries = _list(data, key)
            self._say(f"{label}: {len(entries)}")
            for entry in entries:
                if not isinstance(entry, dict):
                    raise SeedError(f"{key}: ожидался объект, не {entry!r}")
                await load_one(entry)

    # ------------------------------------------------------------ one entity each

    async def _region(self, entry: Mapping[str, Any]) -> None:
        code = _text(entry, "code")
        row = await self._upsert(Region, {"code": code}, {"name": _text(entry, "name")})
        self._remember("region", code, row)

    async def _organization(self, entry: Mapping[str, Any]) -> None:
        name = _text(entry, "name")
        values = {
            "short_name": _optional_text(entry, "short_name"),
            "kind": _enum(OrganizationKind, entry, "kind", OrganizationKind.OTHER),
            "region_id": self._optional_ref("region", entry.get("region"), name),
        }
        row = await self._upsert(Organization, {"name": name}, values)
        self._remember("organization", name, row)

    async def _person(self, entry: Mapping[str, Any]) -> None:
        full_name = _text(entry, "full_name")
        values = {
            "position": _optional_text(entry, "position"),
            "organization_id": self._optional_ref(
                "organization", entry.get("organization"), full_name
            ),
        }
        row = await self._upsert(Person, {"full_name": full_name}, values)
        self._remember("person", full_name, row)

    async def _tag(self, entry: Mapping[str, Any]) -> None:
        name = _text(entry, "name")
        slug = entry.get("slug") or slugify(name)
        row = await self._upsert(Tag, {"slug": slug}, {"name": name})
        self._remember("tag", slug, row)

    async def _direction(self, entry: Mapping[str, Any]) -> None:
        name = _text(entry, "name")
        slug = entry.get("slug") or slugify(name)
        row = await self._upsert(CooperationDirection, {"slug": slug}, {"name": name})
        self._remember("direction", slug, row)

    async def _event(self, entry: Mapping[str, Any]) -> None:
        title = _text(entry, "title")
        slug = entry.get("slug") or slugify(title)
        values = {
            "title": title,
            "starts_on": _date(entry, "starts_on"),
            "ends_on": _date(entry, "ends_on"),
            "place": _optional_text(entry, "place"),
        }
        row = await self._upsert(Event, {"slug": slug}, values)
        self._remember("event", slug, row)

    async def _enterprise(self, entry: Mapping[str, Any]) -> None:
        name = _text(entry, "name")
        slug = entry.get("slug") or slugify(name)
        values = {
            "name": name,
            "kind": _enum(OrganizationKind, entry, "kind", OrganizationKind.COMPANY),
            "description": _optional_text(entry, "description"),
            "locality": _optional_text(entry, "locality"),
            "region_id": self._optional_ref("region", entry.get("region"), slug),
            "address": _optional_text(entry, "address"),
            "latitude": _float(entry, "latitude"),
            "longitude": _float(entry, "longitude"),
            "website": _optional_text(entry, "website"),
        }
        row = await self._upsert(Enterprise, {"slug": slug}, values)
        self._remember("enterprise", slug, row)
        industries = _unique(_list(entry, "industries"), "industries", slug)
        for position, industry in enumerate(industries):
            if not isinstance(industry, str) or not industry.strip():
                raise SeedError(f"{slug}: отрасль должна быть непустой строкой")
            await self._upsert(
                EnterpriseIndustry,
                {"enterprise_id": row.pk, "name": industry},
                {"position": position},
            )

    async def _agreement(self, entry: Mapping[str, Any]) -> None:
        title = _text(entry, "title")
        slug = entry.get("slug") or slugify(title)
        body_html, body_text = _body(entry)
        values = {
            "title": title,
            "number": _optional_text(entry, "number"),
            "signed_on": _date(entry, "signed_on"),
            "in_force_since": _date(entry, "in_force_since"),
            "valid_until": _date(entry, "valid_until"),
            "agreement_status": _enum(
                AgreementStatus, entry, "agreement_status", AgreementStatus.DRAFTING
            ),
            "summary": _optional_text(entry, "summary"),
            "body_html": body_html,
            "body_text": body_text,
            "status": _enum(PublicationState, entry, "status", PublicationState.DRAFT),
            "published_at": _datetime(entry, "published_at"),
        }
        parties = self._refs("organization", _list(entry, "parties"), slug)
        row = await self._upsert(Agreement, {"slug": slug}, values)
        self._remember("agreement", slug, row)
        await self._links(AgreementParty, ("agreement_id", row.pk), "organization_id", parties)

    async def _action_plan(self, entry: Mapping[str, Any]) -> None:
        title = _text(entry, "title")
        slug = entry.get("slug") or slugify(title)
        values = {
            "title": title,
            "agreement_id": self._ref("agreement", entry.get("agreement"), slug),
            "period_start": _date(entry, "period_start", required=True),
            "period_end": _date(entry, "period_end", required=True),
            "signed_on": _date(entry, "signed_on"),
            "signed_at": _optional_text(entry, "signed_at"),
            "status": _enum(PublicationState, entry, "status", PublicationState.DRAFT),
            "published_at": _datetime(entry, "published_at"),
        }
        signatories = self._refs("person", _list(entry, "signatories"), slug)
        directions = self._refs("direction", _list(entry, "directions"), slug)
        row = await self._upsert(ActionPlan, {"slug": slug}, values)
        self._remember("action_plan", slug, row)
        parent = ("action_plan_id", row.pk)
        await self._links(ActionPlanSignatory, parent, "person_id", signatories)
        await self._links(ActionPlanDirection, parent, "direction_id", directions)
        for position, item in enumerate(_list(entry, "items")):
            if not isinstance(item, dict):
                raise SeedError(f"{slug}: пункт плана должен быть объектом")
            item_values = {
                "title": _text(item, "title"),
                "direction_id": self._optional_ref("direction", item.get("direction"), slug),
                "due_on": _date(item, "due_on"),
                "responsible": _optional_text(item, "responsible"),
                "item_status": _enum(
                    ActionItemStatus, item, "item_status", ActionItemStatus.PLANNED
                ),
                "event_id": self._optional_ref("event", item.get("event"), slug),
            }
            await self._upsert(
                ActionPlanItem, {"action_plan_id": row.pk, "position": position}, item_values
            )

    async def _visit(self, entry: Mapping[str, Any]) -> None:
        title = _text(entry, "title")
        values = {
            "delegation_region_id": self._ref("region", entry.get("delegation_region"), title),
            "host_region_id": self._ref("region", entry.get("host_region"), title),
            "starts_on": _date(entry, "starts_on", required=True),
            "ends_on": _date(entry, "ends_on", required=True),
            "organizer_id": self._optional_ref("organization", entry.get("organizer"), title),
            "action_plan_id": self._optional_ref("action_plan", entry.get("action_plan"), title),
        }
        enterprises = self._refs("enterprise", _list(entry, "enterprises"), title)
        row = await self._upsert(Visit, {"title": title}, values)
        self._remember("visit", title, row)
        await self._links(VisitEnterprise, ("visit_id", row.pk), "enterprise_id", enterprises)

    async def _news(self, entry: Mapping[str, Any]) -> None:
        title = _text(entry, "title")
        slug = entry.get("slug") or slugify(title)
        body_html, body_text = _body(entry)
        values = {
            "title": title,
            "lead": _optional_text(entry, "lead"),
            "body_html": body_html,
            "body_text": body_text,
            "status": _enum(PublicationState, entry, "status", PublicationState.DRAFT),
            "published_at": _datetime(entry, "published_at"),
            "visit_id": self._optional_ref("visit", entry.get("visit"), slug),
        }
        tags = self._refs("tag", _list(entry, "tags"), slug)
        regions = self._refs("region", _list(entry, "regions"), slug)
        events = self._refs("event", _list(entry, "events"), slug)
        agreements = self._refs("agreement", _list(entry, "agreements"), slug)
        quotes = []
        for quote in _list(entry, "quotes"):
            if not isinstance(quote, dict):
                raise SeedError(f"{slug}: цитата должна быть объектом")
            text = _text(quote, "text")
            if text not in body_text:
                raise SeedError(f"{slug}: цитаты нет в тексте новости: {text[:60]!r}")
            quotes.append(
                {"person_id": self._ref("person", quote.get("person"), slug), "text": text}
            )
        row = await self._upsert(News, {"slug": slug}, values)
        self._remember("news", slug, row)
        parent = ("news_id", row.pk)
        await self._links(NewsTag, parent, "tag_id", tags)
        await self._links(NewsRegion, parent, "region_id", regions)
        await self._links(NewsEvent, parent, "event_id", events)
        await self._links(NewsAgreement, parent, "agreement_id", agreements)
        for position, quote_values in enumerate(quotes):
            await self._upsert(Quote, {"news_id": row.pk, "position": position}, quote_values)
