"""Mutations of the cooperation area: organisations, people, directions, events,
agreements, action plans with their items, visits and enterprises."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import strawberry

from cms.services import cooperation_editing as forms
from cms.services import editing
from cms.services.content_types import (
    ACTION_PLAN,
    AGREEMENT,
    DIRECTION,
    ENTERPRISE,
    EVENT,
    ORGANIZATION,
    PERSON,
    VISIT,
)
from cms.services.permissions import Action
from cms.services.sanitizing import BodyFormat as DomainBodyFormat
from graphql_schema.context import Info
from graphql_schema.cooperation.types import (
    ActionItemStatus,
    ActionPlan,
    Agreement,
    AgreementStatus,
    CooperationDirection,
    Enterprise,
    Event,
    Organization,
    OrganizationKind,
    Person,
    Visit,
)
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
from graphql_schema.news.mutations import BodyFormat
from graphql_schema.payloads import DeletePayload, UserError
from graphql_schema.relay import parse_typed_id


def _clear(names: Iterable[str]) -> Any:
    """The `clear` input field (null by default), listing the fields it may name."""
    return strawberry.field(default=None, description=clear_field_description(list(names)))


def _cleared(value: list[str] | None) -> tuple[str, ...]:
    return tuple(plain(value) or ())


# ---------------------------------------------------------------- inputs


@strawberry.input(description=f"An organisation. {UPDATE_RULE}")
class OrganizationInput:
    name: str | None = strawberry.field(default=None, description="Required when creating.")
    short_name: str | None = None
    kind: OrganizationKind | None = strawberry.field(default=None, description="OTHER by default.")
    region: str | None = strawberry.field(default=None, description="A region code.")
    clear: list[str] | None = _clear(forms.ORGANIZATION_CLEARABLE)

    def to_domain(self) -> forms.OrganizationData:
        return forms.OrganizationData(
            name=plain(self.name),
            short_name=plain(self.short_name),
            kind=plain(self.kind),
            region=plain(self.region),
            clear=_cleared(self.clear),
        )


@strawberry.input(description=f"A person cited by the content. {UPDATE_RULE}")
class PersonInput:
    full_name: str | None = strawberry.field(default=None, description="Required when creating.")
    position: str | None = None
    organization: strawberry.ID | None = None
    photo: strawberry.ID | None = strawberry.field(default=None, description="A MediaAsset.")
    clear: list[str] | None = _clear(forms.PERSON_CLEARABLE)

    def to_domain(self) -> forms.PersonData:
        return forms.PersonData(
            full_name=plain(self.full_name),
            position=plain(self.position),
            organization=input_id(self.organization, "Organization"),
            photo=input_id(self.photo, "MediaAsset"),
            clear=_cleared(self.clear),
        )


@strawberry.input(description=f"A direction of cooperation. {UPDATE_RULE}")
class CooperationDirectionInput:
    name: str | None = strawberry.field(default=None, description="Required when creating.")
    slug: str | None = None

    def to_domain(self) -> forms.DirectionData:
        return forms.DirectionData(name=plain(self.name), slug=plain(self.slug))


@strawberry.input(description=f"An event. {UPDATE_RULE}")
class EventInput:
    title: str | None = strawberry.field(default=None, description="Required when creating.")
    slug: str | None = None
    starts_on: date | None = None
    ends_on: date | None = strawberry.field(default=None, description="Not before startsOn.")
    place: str | None = None
    clear: list[str] | None = _clear(forms.EVENT_CLEARABLE)

    def to_domain(self) -> forms.EventData:
        return forms.EventData(
            title=plain(self.title),
            slug=plain(self.slug),
            starts_on=plain(self.starts_on),
            ends_on=plain(self.ends_on),
            place=plain(self.place),
            clear=_cleared(self.clear),
        )


@strawberry.input(description=f"An agreement. {UPDATE_RULE}")
class AgreementInput:
    title: str | None = strawberry.field(default=None, description="Required when creating.")
    slug: str | None = None
    number: str | None = None
    parties: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Organizations, in order."
    )
    signed_on: date | None = None
    in_force_since: date | None = None
    valid_until: date | None = strawberry.field(
        default=None, description="Not before inForceSince or signedOn."
    )
    agreement_status: AgreementStatus | None = strawberry.field(
        default=None, description="DRAFTING by default."
    )
    summary: str | None = strawberry.field(default=None, description="Plain text.")
    body: str | None = strawberry.field(
        default=None, description="HTML or Markdown, by bodyFormat; stored sanitised."
    )
    body_format: BodyFormat = DomainBodyFormat.HTML
    documents: list[strawberry.ID] | None = strawberry.field(
        default=None, description="MediaAssets, in order."
    )
    clear: list[str] | None = _clear(forms.AGREEMENT_CLEARABLE)

    def to_domain(self) -> forms.AgreementData:
        return forms.AgreementData(
            title=plain(self.title),
            slug=plain(self.slug),
            number=plain(self.number),
            parties=input_ids(self.parties, "Organization"),
            signed_on=plain(self.signed_on),
            in_force_since=plain(self.in_force_since),
            valid_until=plain(self.valid_until),
            agreement_status=plain(self.agreement_status),
            summary=plain(self.summary),
            body=plain(self.body),
            body_format=plain(self.body_format),
            documents=input_ids(self.documents, "MediaAsset"),
            clear=_cleared(self.clear),
        )


@strawberry.input(description="One item of a plan, edited as part of the plan.")
class ActionPlanItemInput:
    id: strawberry.ID | None = strawberry.field(
        default=None, description="An item of this plan to keep; absent for a new item."
    )
    title: str
    direction: strawberry.ID | None = None
    due_on: date | None = None
    responsible: str | None = None
    item_status: ActionItemStatus | None = strawberry.field(
        default=None, description="PLANNED by default."
    )
    event: strawberry.ID | None = None

    def to_domain(self) -> forms.PlanItemData:
        return forms.PlanItemData(
            id=input_id(self.id, "ActionPlanItem"),
            title=self.title,
            direction=input_id(self.direction, "CooperationDirection"),
            due_on=plain(self.due_on),
            responsible=plain(self.responsible),
            item_status=plain(self.item_status),
            event=input_id(self.event, "Event"),
        )


@strawberry.input(description=f"An action plan with its items. {UPDATE_RULE}")
class ActionPlanInput:
    title: str | None = strawberry.field(default=None, description="Required when creating.")
    slug: str | None = None
    agreement: strawberry.ID | None = strawberry.field(
        default=None, description="Required when creating."
    )
    period_start: date | None = strawberry.field(
        default=None, description="Required when creating."
    )
    period_end: date | None = strawberry.field(
        default=None, description="Required when creating; not before periodStart."
    )
    signed_on: date | None = None
    signed_at: str | None = strawberry.field(default=None, description="Where it was signed.")
    signatories: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Persons, in order."
    )
    directions: list[strawberry.ID] | None = strawberry.field(
        default=None, description="CooperationDirections, in order."
    )
    items: list[ActionPlanItemInput] | None = strawberry.field(
        default=None,
        description="The whole list in order: items with an id are kept, the others "
        "are new, items left out are removed.",
    )
    clear: list[str] | None = _clear(forms.ACTION_PLAN_CLEARABLE)

    def to_domain(self) -> forms.ActionPlanData:
        items = plain(self.items)
        return forms.ActionPlanData(
            title=plain(self.title),
            slug=plain(self.slug),
            agreement=input_id(self.agreement, "Agreement"),
            period_start=plain(self.period_start),
            period_end=plain(self.period_end),
            signed_on=plain(self.signed_on),
            signed_at=plain(self.signed_at),
            signatories=input_ids(self.signatories, "Person"),
            directions=input_ids(self.directions, "CooperationDirection"),
            items=None if items is None else [item.to_domain() for item in items],
            clear=_cleared(self.clear),
        )


@strawberry.input(description=f"A visit of a delegation. {UPDATE_RULE}")
class VisitInput:
    title: str | None = strawberry.field(default=None, description="Required when creating.")
    delegation_region: str | None = strawberry.field(
        default=None, description="A region code; required when creating."
    )
    host_region: str | None = strawberry.field(
        default=None, description="A region code; required when creating."
    )
    starts_on: date | None = strawberry.field(default=None, description="Required when creating.")
    ends_on: date | None = strawberry.field(
        default=None, description="Required when creating; not before startsOn."
    )
    organizer: strawberry.ID | None = None
    action_plan: strawberry.ID | None = None
    enterprises: list[strawberry.ID] | None = strawberry.field(
        default=None, description="In the order visited."
    )
    clear: list[str] | None = _clear(forms.VISIT_CLEARABLE)

    def to_domain(self) -> forms.VisitData:
        return forms.VisitData(
            title=plain(self.title),
            delegation_region=plain(self.delegation_region),
            host_region=plain(self.host_region),
            starts_on=plain(self.starts_on),
            ends_on=plain(self.ends_on),
            organizer=input_id(self.organizer, "Organization"),
            action_plan=input_id(self.action_plan, "ActionPlan"),
            enterprises=input_ids(self.enterprises, "Enterprise"),
            clear=_cleared(self.clear),
        )


@strawberry.input
class GeoPointInput:
    lat: float = strawberry.field(description="-90 to 90.")
    lon: float = strawberry.field(description="-180 to 180.")


@strawberry.input(description=f"An enterprise. {UPDATE_RULE}")
class EnterpriseInput:
    name: str | None = strawberry.field(default=None, description="Required when creating.")
    slug: str | None = None
    kind: OrganizationKind | None = strawberry.field(
        default=None, description="COMPANY by default."
    )
    industries: list[str] | None = None
    description: str | None = strawberry.field(default=None, description="Plain text.")
    locality: str | None = None
    region: str | None = strawberry.field(default=None, description="A region code.")
    address: str | None = None
    location: GeoPointInput | None = None
    website: str | None = strawberry.field(default=None, description="An http(s) URL.")
    logo: strawberry.ID | None = strawberry.field(default=None, description="A MediaAsset.")
    clear: list[str] | None = _clear(forms.ENTERPRISE_CLEARABLE)

    def to_domain(self) -> forms.EnterpriseData:
        location = plain(self.location)
        return forms.EnterpriseData(
            name=plain(self.name),
            slug=plain(self.slug),
            kind=plain(self.kind),
            industries=plain(self.industries),
            description=plain(self.description),
            locality=plain(self.locality),
            region=plain(self.region),
            address=plain(self.address),
            latitude=location.lat if location is not None else None,
            longitude=location.lon if location is not None else None,
            website=plain(self.website),
            logo=input_id(self.logo, "MediaAsset"),
            clear=_cleared(self.clear),
        )


# ---------------------------------------------------------------- payloads


@strawberry.type
class OrganizationPayload:
    organization: Organization | None
    errors: list[UserError]


@strawberry.type
class PersonPayload:
    person: Person | None
    errors: list[UserError]


@strawberry.type
class CooperationDirectionPayload:
    direction: CooperationDirection | None
    errors: list[UserError]


@strawberry.type
class EventPayload:
    event: Event | None
    errors: list[UserError]


@strawberry.type
class AgreementPayload:
    agreement: Agreement | None
    errors: list[UserError]


@strawberry.type
class ActionPlanPayload:
    action_plan: ActionPlan | None
    errors: list[UserError]


@strawberry.type
class VisitPayload:
    visit: Visit | None
    errors: list[UserError]


@strawberry.type
class EnterprisePayload:
    enterprise: Enterprise | None
    errors: list[UserError]


_UPDATE = "A stale expectedRevision is a CONFLICT and changes nothing."


# ---------------------------------------------------------------- mutations


@strawberry.type
class CooperationMutations:
    # organisations

    @strawberry.mutation
    async def create_organization(
        self, info: Info, input: OrganizationInput
    ) -> OrganizationPayload:
        viewer = editor(info, "Создание организации")
        write = editing.create(ORGANIZATION, viewer, forms.organization_form(input.to_domain()))
        return await payload(OrganizationPayload, "organization", Organization.from_row, write)

    @strawberry.mutation(description=_UPDATE)
    async def update_organization(
        self,
        info: Info,
        id: strawberry.ID,
        input: OrganizationInput,
        expected_revision: int | None = None,
    ) -> OrganizationPayload:
        viewer = editor(info, "Изменение организации")
        write = editing.update(
            ORGANIZATION,
            viewer,
            parse_typed_id(id, "Organization"),
            forms.organization_form(input.to_domain()),
            expected_revision=expected_revision,
        )
        return await payload(OrganizationPayload, "organization", Organization.from_row, write)

    @strawberry.mutation
    async def delete_organization(self, info: Info, id: strawberry.ID) -> DeletePayload:
        viewer = editor(info, "Удаление организации")
        pk = parse_typed_id(id, "Organization")
        return await deleted(id, editing.delete(ORGANIZATION, viewer, pk))

    # people

    @strawberry.mutation
    async def create_person(self, info: Info, input: PersonInput) -> PersonPayload:
        viewer = editor(info, "Создание персоны")
        write = editing.create(PERSON, viewer, forms.person_form(input.to_domain()))
        return await payload(PersonPayload, "person", Person.from_row, write)

    @strawberry.mutation(description=_UPDATE)
    async def update_person(
        self,
        info: Info,
        id: strawberry.ID,
        input: PersonInput,
        expected_revision: int | None = None,
    ) -> PersonPayload:
        viewer = editor(info, "Изменение персоны")
        write = editing.update(
            PERSON,
            viewer,
            parse_typed_id(id, "Person"),
            forms.person_form(input.to_domain()),
            expected_revision=expected_revision,
        )
        return await payload(PersonPayload, "person", Person.from_row, write)

    @strawberry.mutation(
        description="Moves a person to the trash; their quotes and signatures are hidden "
        "with them and come back on restore."
    )
    async def delete_person(self, info: Info, id: strawberry.ID) -> DeletePayload:
        viewer = editor(info, "Удаление персоны")
        return await deleted(id, editing.delete(PERSON, viewer, parse_typed_id(id, "Person")))

    # directions

    @strawberry.mutation
    async def create_cooperation_direction(
        self, info: Info, input: CooperationDirectionInput
    ) -> CooperationDirectionPayload:
        viewer = editor(info, "Создание направления")
        write = editing.create(DIRECTION, viewer, forms.direction_form(input.to_domain()))
        return await payload(
            CooperationDirectionPayload, "direction", CooperationDirection.from_row, write
        )

    @strawberry.mutation(description=_UPDATE)
    async def update_cooperation_direction(
        self,
        info: Info,
        id: strawberry.ID,
        input: CooperationDirectionInput,
        expected_revision: int | None = None,
    ) -> CooperationDirectionPayload:
        viewer = editor(info, "Изменение направления")
        write = editing.update(
            DIRECTION,
            viewer,
            parse_typed_id(id, "CooperationDirection"),
            forms.direction_form(input.to_domain()),
            expected_revision=expected_revision,
        )
        return await payload(
            CooperationDirectionPayload, "direction", CooperationDirection.from_row, write
        )

    @strawberry.mutation
    async def delete_cooperation_direction(self, info: Info, id: strawberry.ID) -> DeletePayload:
        viewer = editor(info, "Удаление направления")
        pk = parse_typed_id(id, "CooperationDirection")
        return await deleted(id, editing.delete(DIRECTION, viewer, pk))

    # events

    @strawberry.mutation
    async def create_event(self, info: Info, input: EventInput) -> EventPayload:
        viewer = editor(info, "Создание события")
        write = editing.create(EVENT, viewer, forms.event_form(input.to_domain()))
        return await payload(EventPayload, "event", Event.from_row, write)

    @strawberry.mutation(description=_UPDATE)
    async def update_event(
        self,
        info: Info,
        id: strawberry.ID,
        input: EventInput,
        expected_revision: int | None = None,
    ) -> EventPayload:
        viewer = editor(info, "Изменение события")
        write = editing.update(
            EVENT,
            viewer,
            parse_typed_id(id, "Event"),
            forms.event_form(input.to_domain()),
            expected_revision=expected_revision,
        )
        return await payload(EventPayload, "event", Event.from_row, write)

    @strawberry.mutation
    async def delete_event(self, info: Info, id: strawberry.ID) -> DeletePayload:
        viewer = editor(info, "Удаление события")
        return await deleted(id, editing.delete(EVENT, viewer, parse_typed_id(id, "Event")))

    # agreements

    @strawberry.mutation(description="A new draft agreement.")
    async def create_agreement(self, info: Info, input: AgreementInput) -> AgreementPayload:
        viewer = editor(info, "Создание соглашения")
        write = editing.create(
            AGREEMENT,
            viewer,
            forms.agreement_form(input.to_domain(), info.context.settings.richtext_image_hosts),
        )
        return await payload(AgreementPayload, "agreement", Agreement.from_row, write)

    @strawberry.mutation(description=_UPDATE)
    async def update_agreement(
        self,
        info: Info,
        id: strawberry.ID,
        input: AgreementInput,
        expected_revision: int | None = None,
    ) -> AgreementPayload:
        viewer = editor(info, "Изменение соглашения")
        write = editing.update(
            AGREEMENT,
            viewer,
            parse_typed_id(id, "Agreement"),
            forms.agreement_form(input.to_domain(), info.context.settings.richtext_image_hosts),
            expected_revision=expected_revision,
        )
        return await payload(AgreementPayload, "agreement", Agreement.from_row, write)

    @strawberry.mutation(description="Publishes now, or at `at` (a future moment schedules it).")
    async def publish_agreement(
        self, info: Info, id: strawberry.ID, at: datetime | None = None
    ) -> AgreementPayload:
        viewer = editor(info, "Публикация соглашения", Action.PUBLISH)
        write = editing.publish(AGREEMENT, viewer, parse_typed_id(id, "Agreement"), at)
        return await payload(AgreementPayload, "agreement", Agreement.from_row, write)

    @strawberry.mutation(description="Back to a draft; its action plans are hidden with it.")
    async def unpublish_agreement(self, info: Info, id: strawberry.ID) -> AgreementPayload:
        viewer = editor(info, "Снятие соглашения с публикации", Action.PUBLISH)
        write = editing.unpublish(AGREEMENT, viewer, parse_typed_id(id, "Agreement"))
        return await payload(AgreementPayload, "agreement", Agreement.from_row, write)

    @strawberry.mutation(
        description="Moves an agreement to the trash; its action plans are hidden with it."
    )
    async def delete_agreement(self, info: Info, id: strawberry.ID) -> DeletePayload:
        viewer = editor(info, "Удаление соглашения")
        pk = parse_typed_id(id, "Agreement")
        return await deleted(id, editing.delete(AGREEMENT, viewer, pk))

    # action plans

    @strawberry.mutation(description="A new draft action plan with its items.")
    async def create_action_plan(self, info: Info, input: ActionPlanInput) -> ActionPlanPayload:
        viewer = editor(info, "Создание плана мероприятий")
        write = editing.create(ACTION_PLAN, viewer, forms.action_plan_form(input.to_domain()))
        return await payload(ActionPlanPayload, "action_plan", ActionPlan.from_row, write)

    @strawberry.mutation(description=_UPDATE)
    async def update_action_plan(
        self,
        info: Info,
        id: strawberry.ID,
        input: ActionPlanInput,
        expected_revision: int | None = None,
    ) -> ActionPlanPayload:
        viewer = editor(info, "Изменение плана мероприятий")
        write = editing.update(
            ACTION_PLAN,
            viewer,
            parse_typed_id(id, "ActionPlan"),
            forms.action_plan_form(input.to_domain()),
            expected_revision=expected_revision,
        )
        return await payload(ActionPlanPayload, "action_plan", ActionPlan.from_row, write)

    @strawberry.mutation(description="Publishes now, or at `at` (a future moment schedules it).")
    async def publish_action_plan(
        self, info: Info, id: strawberry.ID, at: datetime | None = None
    ) -> ActionPlanPayload:
        viewer = editor(info, "Публикация плана мероприятий", Action.PUBLISH)
        write = editing.publish(ACTION_PLAN, viewer, parse_typed_id(id, "ActionPlan"), at)
        return await payload(ActionPlanPayload, "action_plan", ActionPlan.from_row, write)

    @strawberry.mutation(description="Back to a draft.")
    async def unpublish_action_plan(self, info: Info, id: strawberry.ID) -> ActionPlanPayload:
        viewer = editor(info, "Снятие плана с публикации", Action.PUBLISH)
        write = editing.unpublish(ACTION_PLAN, viewer, parse_typed_id(id, "ActionPlan"))
        return await payload(ActionPlanPayload, "action_plan", ActionPlan.from_row, write)

    @strawberry.mutation
    async def delete_action_plan(self, info: Info, id: strawberry.ID) -> DeletePayload:
        viewer = editor(info, "Удаление плана мероприятий")
        pk = parse_typed_id(id, "ActionPlan")
        return await deleted(id, editing.delete(ACTION_PLAN, viewer, pk))

    # visits

    @strawberry.mutation
    async def create_visit(self, info: Info, input: VisitInput) -> VisitPayload:
        viewer = editor(info, "Создание визита")
        write = editing.create(VISIT, viewer, forms.visit_form(input.to_domain()))
        return await payload(VisitPayload, "visit", Visit.from_row, write)

    @strawberry.mutation(description=_UPDATE)
    async def update_visit(
        self,
        info: Info,
        id: strawberry.ID,
        input: VisitInput,
        expected_revision: int | None = None,
    ) -> VisitPayload:
        viewer = editor(info, "Изменение визита")
        write = editing.update(
            VISIT,
            viewer,
            parse_typed_id(id, "Visit"),
            forms.visit_form(input.to_domain()),
            expected_revision=expected_revision,
        )
        return await payload(VisitPayload, "visit", Visit.from_row, write)

    @strawberry.mutation
    async def delete_visit(self, info: Info, id: strawberry.ID) -> DeletePayload:
        viewer = editor(info, "Удаление визита")
        return await deleted(id, editing.delete(VISIT, viewer, parse_typed_id(id, "Visit")))

    # enterprises

    @strawberry.mutation
    async def create_enterprise(self, info: Info, input: EnterpriseInput) -> EnterprisePayload:
        viewer = editor(info, "Создание предприятия")
        write = editing.create(ENTERPRISE, viewer, forms.enterprise_form(input.to_domain()))
        return await payload(EnterprisePayload, "enterprise", Enterprise.from_row, write)

    @strawberry.mutation(description=_UPDATE)
    async def update_enterprise(
        self,
        info: Info,
        id: strawberry.ID,
        input: EnterpriseInput,
        expected_revision: int | None = None,
    ) -> EnterprisePayload:
        viewer = editor(info, "Изменение предприятия")
        write = editing.update(
            ENTERPRISE,
            viewer,
            parse_typed_id(id, "Enterprise"),
            forms.enterprise_form(input.to_domain()),
            expected_revision=expected_revision,
        )
        return await payload(EnterprisePayload, "enterprise", Enterprise.from_row, write)

    @strawberry.mutation(description="Moves an enterprise to the trash; visits hide it.")
    async def delete_enterprise(self, info: Info, id: strawberry.ID) -> DeletePayload:
        viewer = editor(info, "Удаление предприятия")
        pk = parse_typed_id(id, "Enterprise")
        return await deleted(id, editing.delete(ENTERPRISE, viewer, pk))
