"""Editing cooperation content: the inputs of organisations, people, directions,
events, agreements, action plans (with their items), visits and enterprises."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from cms.db import flat_values
from cms.errors import Code
from cms.models import (
    ActionItemStatus,
    ActionPlan,
    ActionPlanItem,
    Agreement,
    AgreementStatus,
    CooperationDirection,
    Enterprise,
    Event,
    MediaAsset,
    Organization,
    OrganizationKind,
    Person,
    Visit,
)
from cms.services.content_forms import MAX_LIST_LENGTH, Form, existing_ids, path
from cms.services.content_types import ACTION_PLAN, AGREEMENT, DIRECTION, ENTERPRISE, EVENT
from cms.services.editing import Build, Changes
from cms.services.sanitizing import BodyFormat
from cms.services.validation import Checker

# ---------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class OrganizationData:
    name: str | None = None
    short_name: str | None = None
    kind: OrganizationKind | None = None
    region: str | None = None  # region code
    clear: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PersonData:
    full_name: str | None = None
    position: str | None = None
    organization: int | None = None
    photo: int | None = None
    clear: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DirectionData:
    name: str | None = None
    slug: str | None = None


@dataclass(frozen=True, slots=True)
class EventData:
    title: str | None = None
    slug: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    place: str | None = None
    clear: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AgreementData:
    title: str | None = None
    slug: str | None = None
    number: str | None = None
    parties: list[int] | None = None
    signed_on: date | None = None
    in_force_since: date | None = None
    valid_until: date | None = None
    agreement_status: AgreementStatus | None = None
    summary: str | None = None
    body: str | None = None
    body_format: BodyFormat | None = None
    documents: list[int] | None = None
    clear: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PlanItemData:
    title: str
    id: int | None = None  # an item of this plan to keep (its id stays), else a new one
    direction: int | None = None
    due_on: date | None = None
    responsible: str | None = None
    item_status: ActionItemStatus | None = None
    event: int | None = None


@dataclass(frozen=True, slots=True)
class ActionPlanData:
    title: str | None = None
    slug: str | None = None
    agreement: int | None = None
    period_start: date | None = None
    period_end: date | None = None
    signed_on: date | None = None
    signed_at: str | None = None
    signatories: list[int] | None = None
    directions: list[int] | None = None
    items: list[PlanItemData] | None = None
    clear: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VisitData:
    title: str | None = None
    delegation_region: str | None = None
    host_region: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    organizer: int | None = None
    action_plan: int | None = None
    enterprises: list[int] | None = None  # in the order visited
    clear: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EnterpriseData:
    name: str | None = None
    slug: str | None = None
    kind: OrganizationKind | None = None
    industries: list[str] | None = None
    description: str | None = None
    locality: str | None = None
    region: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    website: str | None = None
    logo: int | None = None
    clear: tuple[str, ...] = ()


# What each input's `clear` may name, and the columns that empties.
ORGANIZATION_CLEARABLE = {"shortName": ("short_name",), "region": ("region_id",)}
PERSON_CLEARABLE = {
    "position": ("position",),
    "organization": ("organization_id",),
    "photo": ("photo_id",),
}
EVENT_CLEARABLE = {"startsOn": ("starts_on",), "endsOn": ("ends_on",), "place": ("place",)}
AGREEMENT_CLEARABLE = {
    "number": ("number",),
    "signedOn": ("signed_on",),
    "inForceSince": ("in_force_since",),
    "validUntil": ("valid_until",),
    "summary": ("summary",),
    "body": ("body_html", "body_text"),
}
ACTION_PLAN_CLEARABLE = {"signedOn": ("signed_on",), "signedAt": ("signed_at",)}
VISIT_CLEARABLE = {"organizer": ("organizer_id",), "actionPlan": ("action_plan_id",)}
ENTERPRISE_CLEARABLE = {
    "description": ("description",),
    "locality": ("locality",),
    "region": ("region_id",),
    "address": ("address",),
    "location": ("latitude", "longitude"),
    "website": ("website",),
    "logo": ("logo_id",),
}


# ---------------------------------------------------------------- builds


def organization_form(data: OrganizationData) -> Build:
    async def build(check: Checker, item: Organization | None) -> Changes:
        form = Form(check, item, data.clear, ORGANIZATION_CLEARABLE)
        form.text("name", "name", data.name, required=True, max_length=300)
        form.text("shortName", "short_name", data.short_name, max_length=120)
        form.value("kind", "kind", data.kind)
        await form.region("region", "region_id", data.region)
        return form.changes()

    return build


def person_form(data: PersonData) -> Build:
    async def build(check: Checker, item: Person | None) -> Changes:
        form = Form(check, item, data.clear, PERSON_CLEARABLE)
        form.text("fullName", "full_name", data.full_name, required=True, max_length=200)
        form.text("position", "position", data.position, max_length=1000, multiline=True)
        await form.reference(
            "organization", "organization_id", Organization, data.organization, "Организация"
        )
        await form.reference("photo", "photo_id", MediaAsset, data.photo, "Медиафайл")
        return form.changes()

    return build


def direction_form(data: DirectionData) -> Build:
    async def build(check: Checker, item: CooperationDirection | None) -> Changes:
        form = Form(check, item)
        name = form.text("name", "name", data.name, required=True, max_length=200)
        await form.slug(DIRECTION, data.slug, name)
        return form.changes()

    return build


def event_form(data: EventData) -> Build:
    async def build(check: Checker, item: Event | None) -> Changes:
        form = Form(check, item, data.clear, EVENT_CLEARABLE)
        title = form.text("title", "title", data.title, required=True, max_length=300)
        await form.slug(EVENT, data.slug, title)
        form.value("startsOn", "starts_on", data.starts_on)
        form.value("endsOn", "ends_on", data.ends_on)
        form.not_before(
            "starts_on", "ends_on", "endsOn", "Событие не может закончиться раньше начала."
        )
        form.text("place", "place", data.place, max_length=300)
        return form.changes()

    return build


def agreement_form(data: AgreementData, image_hosts: Collection[str]) -> Build:
    async def build(check: Checker, item: Agreement | None) -> Changes:
        form = Form(check, item, data.clear, AGREEMENT_CLEARABLE)
        title = form.text("title", "title", data.title, required=True, max_length=500)
        await form.slug(AGREEMENT, data.slug, title)
        form.text("number", "number", data.number, max_length=100)
        form.value("signedOn", "signed_on", data.signed_on)
        form.value("inForceSince", "in_force_since", data.in_force_since)
        form.value("validUntil", "valid_until", data.valid_until)
        form.not_before(
            "in_force_since",
            "valid_until",
            "validUntil",
            "Срок действия не может кончиться раньше начала.",
        )
        form.not_before(
            "signed_on",
            "valid_until",
            "validUntil",
            "Срок действия не может кончиться раньше подписания.",
        )
        form.value("agreementStatus", "agreement_status", data.agreement_status)
        form.text("summary", "summary", data.summary, max_length=5000, multiline=True)
        form.body(data.body, data.body_format, image_hosts)
        await form.references("parties", Organization, data.parties, "Организация")
        await form.references("documents", MediaAsset, data.documents, "Медиафайл")
        return form.changes()

    return build


def action_plan_form(data: ActionPlanData) -> Build:
    async def build(check: Checker, item: ActionPlan | None) -> Changes:
        form = Form(check, item, data.clear, ACTION_PLAN_CLEARABLE)
        title = form.text("title", "title", data.title, required=True, max_length=500)
        await form.slug(ACTION_PLAN, data.slug, title)
        if data.agreement is None and form.creating:
            check.fail(path("agreement"), Code.REQUIRED, "Поле «agreement» обязательно.")
        await form.reference("agreement", "agreement_id", Agreement, data.agreement, "Соглашение")
        form.value("periodStart", "period_start", data.period_start, required=True)
        form.value("periodEnd", "period_end", data.period_end, required=True)
        form.not_before(
            "period_start",
            "period_end",
            "periodEnd",
            "Период плана не может кончиться раньше начала.",
        )
        form.value("signedOn", "signed_on", data.signed_on)
        form.text("signedAt", "signed_at", data.signed_at, max_length=300)
        await form.references("signatories", Person, data.signatories, "Персона")
        await form.references("directions", CooperationDirection, data.directions, "Направление")
        await _plan_items(form, data.items)
        return form.changes()

    return build


async def _plan_items(form: Form, items: list[PlanItemData] | None) -> None:
    """The whole list of a plan's items: listed ids keep their items, new entries get
    new ones, items left out are removed."""
    if items is None:
        return
    check = form.check
    if len(items) > MAX_LIST_LENGTH:
        check.fail(path("items"), Code.TOO_LONG, f"Не больше {MAX_LIST_LENGTH} пунктов.")
        return
    own: set[int] = set()
    if form.item is not None:
        own = set(await flat_values(ActionPlanItem.filter(action_plan_id=form.item.pk), "id"))
    directions = await existing_ids(
        CooperationDirection, {item.direction for item in items if item.direction is not None}
    )
    events = await existing_ids(Event, {item.event for item in items if item.event is not None})
    rows = []
    seen: set[int] = set()
    for index, item in enumerate(items):
        if item.id is not None and (item.id not in own or item.id in seen):
            check.fail(
                path("items", index, "id"), Code.NOT_FOUND, "В этом плане нет такого пункта."
            )
        if item.id is not None:
            seen.add(item.id)
        if item.direction is not None and item.direction not in directions:
            check.fail(path("items", index, "direction"), Code.NOT_FOUND, "Направление не найдено.")
        if item.event is not None and item.event not in events:
            check.fail(path("items", index, "event"), Code.NOT_FOUND, "Событие не найдено.")
        title = check.text(
            item.title,
            path("items", index, "title"),
            required=True,
            max_length=2000,
            multiline=True,
            label="пункт плана",
        )
        responsible = check.text(
            item.responsible, path("items", index, "responsible"), max_length=1000, multiline=True
        )
        rows.append(
            {
                "title": title,
                "direction_id": item.direction,
                "due_on": item.due_on,
                "responsible": responsible,
                "item_status": item.item_status or ActionItemStatus.PLANNED,
                "event_id": item.event,
                "id": item.id,
            }
        )
    form.links["items"] = rows


def visit_form(data: VisitData) -> Build:
    async def build(check: Checker, item: Visit | None) -> Changes:
        form = Form(check, item, data.clear, VISIT_CLEARABLE)
        form.text("title", "title", data.title, required=True, max_length=500)
        await form.region(
            "delegationRegion", "delegation_region_id", data.delegation_region, required=True
        )
        await form.region("hostRegion", "host_region_id", data.host_region, required=True)
        form.value("startsOn", "starts_on", data.starts_on, required=True)
        form.value("endsOn", "ends_on", data.ends_on, required=True)
        form.not_before(
            "starts_on", "ends_on", "endsOn", "Визит не может закончиться раньше начала."
        )
        await form.reference(
            "organizer", "organizer_id", Organization, data.organizer, "Организация"
        )
        await form.reference(
            "actionPlan", "action_plan_id", ActionPlan, data.action_plan, "План мероприятий"
        )
        await form.references("enterprises", Enterprise, data.enterprises, "Предприятие")
        return form.changes()

    return build


def enterprise_form(data: EnterpriseData) -> Build:
    async def build(check: Checker, item: Enterprise | None) -> Changes:
        form = Form(check, item, data.clear, ENTERPRISE_CLEARABLE)
        name = form.text("name", "name", data.name, required=True, max_length=300)
        await form.slug(ENTERPRISE, data.slug, name)
        form.value("kind", "kind", data.kind)
        form.strings("industries", data.industries, max_length=120)
        form.text("description", "description", data.description, max_length=5000, multiline=True)
        form.text("locality", "locality", data.locality, max_length=200)
        await form.region("region", "region_id", data.region)
        form.text("address", "address", data.address, max_length=500)
        form.location("location", data.latitude, data.longitude)
        form.url("website", "website", data.website)
        await form.reference("logo", "logo_id", MediaAsset, data.logo, "Медиафайл")
        return form.changes()

    return build
