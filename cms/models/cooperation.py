"""Intergovernmental cooperation: regions, organisations and people, agreements, their
action plans, the visits of delegations and the enterprises they see."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from cms.models.base import ContentModel, PublishableModel, SearchableMixin
from cms.models.declare import Declaration, Field, Kind, SearchWeight, declare
from cms.models.identifiers import inn_problem, ogrn_problem


class OrganizationKind(StrEnum):
    GOVERNMENT = "government"
    MINISTRY = "ministry"
    AGENCY = "agency"
    COMPANY = "company"
    UNIVERSITY = "university"
    OTHER = "other"


class AgreementStatus(StrEnum):
    DRAFTING = "drafting"
    ACTIVE = "active"
    EXPIRED = "expired"
    TERMINATED = "terminated"


class ActionItemStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


class Region(Model):
    # Reference data (ISO 3166-2), not edited through the API.

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=16, unique=True)
    name = fields.CharField(max_length=200)

    class Meta:
        table = "region"
        ordering = ("name", "id")


class Organization(ContentModel):
    name = fields.CharField(max_length=300)
    short_name = fields.CharField(max_length=120, null=True)
    kind = fields.CharEnumField(OrganizationKind, max_length=16, default=OrganizationKind.OTHER)
    region: fields.ForeignKeyNullableRelation[Region] = fields.ForeignKeyField(
        "models.Region", related_name="organizations", null=True, on_delete=fields.SET_NULL
    )
    region_id: int | None  # Tortoise's column of the foreign key (typed for mypy)

    class Meta:
        table = "organization"
        ordering = ("name", "id")


ORGANIZATION = declare(
    Declaration(
        "Organization",
        Organization,
        "организация",
        "организации",
        "A government, ministry, agency, company or university taking part in cooperation.",
        (
            Field(
                "name",
                Kind.TEXT,
                "название",
                required=True,
                searchable=SearchWeight.TITLE,
            ),
            Field(
                "short_name",
                Kind.TEXT,
                "краткое название",
                searchable=SearchWeight.TITLE,
            ),
            Field(
                "kind",
                Kind.ENUM,
                "вид",
                enum=OrganizationKind,
                default=OrganizationKind.OTHER,
                input_doc="OTHER by default.",
            ),
            Field("region", Kind.REGION, "регион"),
        ),
        parent="organization",
        title_field="name",
        input_description="An organisation.",
    )
)


class Person(ContentModel):
    full_name = fields.CharField(max_length=200)
    position = fields.TextField(null=True)
    organization: fields.ForeignKeyNullableRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="people", null=True, on_delete=fields.SET_NULL
    )
    organization_id: int | None
    photo: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.MediaAsset", related_name="person_photos", null=True, on_delete=fields.RESTRICT
    )
    photo_id: int | None

    class Meta:
        table = "person"
        ordering = ("full_name", "id")
        # Whether an asset is public is asked per asset (visibility.py).
        indexes = (Index(fields=("photo_id",)),)


PERSON = declare(
    Declaration(
        "Person",
        Person,
        "персона",
        "персоны",
        "A person cited by the content or signing its documents.",
        (
            Field(
                "full_name",
                Kind.TEXT,
                "имя",
                required=True,
                searchable=SearchWeight.TITLE,
            ),
            Field(
                "position",
                Kind.TEXT,
                "должность",
                searchable=SearchWeight.LEAD,
                max_length=1000,
                multiline=True,
                doc="As of the content that cites them.",
            ),
            Field("organization", Kind.REFERENCE, "Организация", target="Organization"),
            Field(
                "photo", Kind.REFERENCE, "Медиафайл", target="MediaAsset", input_doc="A MediaAsset."
            ),
        ),
        parent="person",
        title_field="full_name",
        input_description="A person cited by the content.",
    )
)


class CooperationDirection(ContentModel):
    slug = fields.CharField(max_length=120, unique=True)
    name = fields.CharField(max_length=200)

    class Meta:
        table = "cooperation_direction"
        ordering = ("name", "id")


DIRECTION = declare(
    Declaration(
        "CooperationDirection",
        CooperationDirection,
        "направление сотрудничества",
        "направления",
        "A direction of cooperation: trade, education, tourism ...",
        (
            Field(
                "slug",
                Kind.SLUG,
                "адрес",
            ),
            Field(
                "name",
                Kind.TEXT,
                "название",
                required=True,
            ),
        ),
        parent="direction",
        title_field="name",
        input_description="A direction of cooperation.",
    )
)


class Event(ContentModel):
    slug = fields.CharField(max_length=200, unique=True)
    title = fields.CharField(max_length=300)
    starts_on = fields.DateField(null=True)
    ends_on = fields.DateField(null=True)
    place = fields.CharField(max_length=300, null=True)

    class Meta:
        table = "event"
        indexes = (Index(fields=("starts_on", "id")),)


EVENT = declare(
    Declaration(
        "Event",
        Event,
        "событие",
        "события",
        "An event: a forum, a fair, a meeting of a commission.",
        (
            Field(
                "slug",
                Kind.SLUG,
                "адрес",
            ),
            Field(
                "title",
                Kind.TEXT,
                "название",
                required=True,
                searchable=SearchWeight.TITLE,
            ),
            Field("starts_on", Kind.DATE, "начало"),
            Field(
                "ends_on",
                Kind.DATE,
                "окончание",
                not_before=(("starts_on", "Событие не может закончиться раньше начала."),),
            ),
            Field(
                "place",
                Kind.TEXT,
                "место",
                searchable=SearchWeight.LEAD,
            ),
        ),
        parent="event",
        input_description="An event.",
    )
)


class Agreement(SearchableMixin, PublishableModel):
    slug = fields.CharField(max_length=200, unique=True)
    title = fields.CharField(max_length=500)
    number = fields.CharField(max_length=100, null=True)
    signed_on = fields.DateField(null=True)
    in_force_since = fields.DateField(null=True)
    valid_until = fields.DateField(null=True)
    agreement_status = fields.CharEnumField(
        AgreementStatus, max_length=16, default=AgreementStatus.DRAFTING
    )
    summary = fields.TextField(null=True)
    body_html = fields.TextField(default="")
    body_text = fields.TextField(default="")
    search_text = fields.TextField(default="")

    class Meta:
        table = "agreement"
        indexes = (
            # Every public read filters on status and the trash, then ranges over
            # published_at: one index serves the page and (covering) its count.
            Index(fields=("status", "deleted_at", "published_at", "id")),
            Index(fields=("agreement_status", "id")),
        )


AGREEMENT = declare(
    Declaration(
        "Agreement",
        Agreement,
        "соглашение",
        "соглашения",
        "An intergovernmental agreement with its parties, documents and action plans.",
        (
            Field(
                "slug",
                Kind.SLUG,
                "адрес",
            ),
            Field(
                "title",
                Kind.TEXT,
                "название",
                required=True,
                searchable=SearchWeight.TITLE,
            ),
            Field(
                "number",
                Kind.TEXT,
                "номер",
                searchable=SearchWeight.TITLE,
            ),
            Field(
                "parties",
                Kind.REFERENCES,
                "Организация",
                target="Organization",
                link="AgreementParty",
                link_column="organization_id",
                input_doc="Organizations, in order.",
            ),
            Field("signed_on", Kind.DATE, "дата подписания"),
            Field("in_force_since", Kind.DATE, "вступило в силу"),
            Field(
                "valid_until",
                Kind.DATE,
                "действует до",
                not_before=(
                    ("in_force_since", "Срок действия не может кончиться раньше начала."),
                    ("signed_on", "Срок действия не может кончиться раньше подписания."),
                ),
            ),
            Field(
                "agreement_status",
                Kind.ENUM,
                "статус соглашения",
                enum=AgreementStatus,
                default=AgreementStatus.DRAFTING,
                input_doc="DRAFTING by default.",
            ),
            Field(
                "summary",
                Kind.TEXT,
                "краткое содержание",
                searchable=SearchWeight.LEAD,
                max_length=5000,
                multiline=True,
                input_doc="Plain text.",
            ),
            Field("body", Kind.RICH_TEXT, "текст", searchable=SearchWeight.BODY),
            Field(
                "documents",
                Kind.REFERENCES,
                "Медиафайл",
                target="MediaAsset",
                link="AgreementDocument",
                link_column="asset_id",
                input_doc="MediaAssets, in order.",
            ),
        ),
        parent="agreement",
        input_description="An agreement.",
    )
)


class AgreementParty(Model):
    id = fields.IntField(primary_key=True)
    agreement: fields.ForeignKeyRelation[Agreement] = fields.ForeignKeyField(
        "models.Agreement", related_name="party_links", on_delete=fields.CASCADE
    )
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="agreement_links", on_delete=fields.RESTRICT
    )
    position = fields.IntField(default=0)

    class Meta:
        table = "agreement_party"
        unique_together = (("agreement", "organization"),)
        indexes = (Index(fields=("organization_id", "agreement_id")),)


class AgreementDocument(Model):
    id = fields.IntField(primary_key=True)
    agreement: fields.ForeignKeyRelation[Agreement] = fields.ForeignKeyField(
        "models.Agreement", related_name="document_links", on_delete=fields.CASCADE
    )
    asset: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.MediaAsset", related_name="agreement_links", on_delete=fields.RESTRICT
    )
    position = fields.IntField(default=0)

    class Meta:
        table = "agreement_document"
        unique_together = (("agreement", "asset"),)
        indexes = (Index(fields=("asset_id",)),)  # asked per asset (visibility.py)


class ActionPlan(PublishableModel):
    slug = fields.CharField(max_length=200, unique=True)
    title = fields.CharField(max_length=500)
    agreement: fields.ForeignKeyRelation[Agreement] = fields.ForeignKeyField(
        "models.Agreement", related_name="action_plans", on_delete=fields.RESTRICT
    )
    agreement_id: int
    period_start = fields.DateField()
    period_end = fields.DateField()
    signed_on = fields.DateField(null=True)
    signed_at = fields.CharField(max_length=300, null=True)

    class Meta:
        table = "action_plan"
        indexes = (
            Index(fields=("agreement_id", "period_start", "id")),
            Index(fields=("period_start", "id")),
        )


ACTION_PLAN = declare(
    Declaration(
        "ActionPlan",
        ActionPlan,
        "план мероприятий",
        "плана мероприятий",
        "An action plan of an agreement for a period, with its items.",
        (
            Field(
                "slug",
                Kind.SLUG,
                "адрес",
            ),
            Field(
                "title",
                Kind.TEXT,
                "название",
                required=True,
                searchable=SearchWeight.TITLE,
            ),
            Field(
                "agreement",
                Kind.REFERENCE,
                "Соглашение",
                required=True,
                target="Agreement",
            ),
            Field("period_start", Kind.DATE, "начало периода", required=True),
            Field(
                "period_end",
                Kind.DATE,
                "конец периода",
                required=True,
                not_before=(("period_start", "Период плана не может кончиться раньше начала."),),
            ),
            Field("signed_on", Kind.DATE, "дата подписания"),
            Field(
                "signed_at",
                Kind.TEXT,
                "место подписания",
                searchable=SearchWeight.BODY,
                doc="Where it was signed.",
                input_doc="Where it was signed.",
            ),
            Field(
                "signatories",
                Kind.REFERENCES,
                "Персона",
                target="Person",
                link="ActionPlanSignatory",
                link_column="person_id",
                input_doc="Persons, in order.",
            ),
            Field(
                "directions",
                Kind.REFERENCES,
                "Направление",
                target="CooperationDirection",
                link="ActionPlanDirection",
                link_column="direction_id",
                input_doc="CooperationDirections, in order.",
            ),
            Field(
                "items",
                Kind.PARTS,
                "пункты",
                link="ActionPlanItem",
                keeps_ids=True,
                doc="One item of a plan, edited as part of the plan.",
                id_doc="An item of this plan to keep; absent for a new item.",
                input_doc="The whole list in order: items with an id are kept, the others "
                "are new, items left out are removed.",
                parts=(
                    Field(
                        "title",
                        Kind.TEXT,
                        "пункт плана",
                        required=True,
                        max_length=2000,
                        multiline=True,
                    ),
                    Field(
                        "direction", Kind.REFERENCE, "Направление", target="CooperationDirection"
                    ),
                    Field("due_on", Kind.DATE, "срок"),
                    Field(
                        "responsible", Kind.TEXT, "ответственные", max_length=1000, multiline=True
                    ),
                    Field(
                        "item_status",
                        Kind.ENUM,
                        "статус пункта",
                        enum=ActionItemStatus,
                        default=ActionItemStatus.PLANNED,
                        input_doc="PLANNED by default.",
                    ),
                    Field("event", Kind.REFERENCE, "Событие", target="Event"),
                ),
            ),
        ),
        parent="action_plan",
        input_description="An action plan with its items.",
    )
)


class ActionPlanSignatory(Model):
    id = fields.IntField(primary_key=True)
    action_plan: fields.ForeignKeyRelation[ActionPlan] = fields.ForeignKeyField(
        "models.ActionPlan", related_name="signatory_links", on_delete=fields.CASCADE
    )
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="signed_plan_links", on_delete=fields.RESTRICT
    )
    position = fields.IntField(default=0)

    class Meta:
        table = "action_plan_signatory"
        unique_together = (("action_plan", "person"),)


class ActionPlanDirection(Model):
    id = fields.IntField(primary_key=True)
    action_plan: fields.ForeignKeyRelation[ActionPlan] = fields.ForeignKeyField(
        "models.ActionPlan", related_name="direction_links", on_delete=fields.CASCADE
    )
    direction: fields.ForeignKeyRelation[CooperationDirection] = fields.ForeignKeyField(
        "models.CooperationDirection", related_name="plan_links", on_delete=fields.RESTRICT
    )
    position = fields.IntField(default=0)

    class Meta:
        table = "action_plan_direction"
        unique_together = (("action_plan", "direction"),)


class ActionPlanItem(Model):
    # Part of its plan: edited, versioned and deleted with it.

    id = fields.IntField(primary_key=True)
    action_plan: fields.ForeignKeyRelation[ActionPlan] = fields.ForeignKeyField(
        "models.ActionPlan", related_name="items", on_delete=fields.CASCADE
    )
    position = fields.IntField(default=0)
    title = fields.TextField()
    direction: fields.ForeignKeyNullableRelation[CooperationDirection] = fields.ForeignKeyField(
        "models.CooperationDirection",
        related_name="plan_items",
        null=True,
        on_delete=fields.SET_NULL,
    )
    direction_id: int | None
    due_on = fields.DateField(null=True)
    responsible = fields.TextField(null=True)
    item_status = fields.CharEnumField(
        ActionItemStatus, max_length=16, default=ActionItemStatus.PLANNED
    )
    event: fields.ForeignKeyNullableRelation[Event] = fields.ForeignKeyField(
        "models.Event", related_name="plan_items", null=True, on_delete=fields.SET_NULL
    )
    event_id: int | None

    class Meta:
        table = "action_plan_item"
        ordering = ("action_plan_id", "position", "id")


class Enterprise(SearchableMixin, ContentModel):
    slug = fields.CharField(max_length=200, unique=True)
    name = fields.CharField(max_length=300)
    kind = fields.CharEnumField(OrganizationKind, max_length=16, default=OrganizationKind.COMPANY)
    description = fields.TextField(null=True)
    locality = fields.CharField(max_length=200, null=True)
    region: fields.ForeignKeyNullableRelation[Region] = fields.ForeignKeyField(
        "models.Region", related_name="enterprises", null=True, on_delete=fields.SET_NULL
    )
    region_id: int | None
    address = fields.CharField(max_length=500, null=True)
    latitude = fields.FloatField(null=True)
    longitude = fields.FloatField(null=True)
    website = fields.CharField(max_length=500, null=True)
    search_text = fields.TextField(default="")
    inn = fields.CharField(max_length=12, null=True)
    ogrn = fields.CharField(max_length=15, null=True)
    logo: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.MediaAsset", related_name="enterprise_logos", null=True, on_delete=fields.RESTRICT
    )
    logo_id: int | None

    class Meta:
        table = "enterprise"
        indexes = (
            Index(fields=("name", "id")),
            Index(fields=("region_id", "name", "id")),
            Index(fields=("locality",)),
            Index(fields=("latitude", "longitude")),
            Index(fields=("logo_id",)),  # asked per asset (visibility.py)
        )


ENTERPRISE = declare(
    Declaration(
        "Enterprise",
        Enterprise,
        "предприятие",
        "предприятия",
        "An enterprise: a factory, a farm, a university; shown on the investment map.",
        (
            Field(
                "slug",
                Kind.SLUG,
                "адрес",
            ),
            Field(
                "name",
                Kind.TEXT,
                "название",
                required=True,
                searchable=SearchWeight.TITLE,
            ),
            Field(
                "kind",
                Kind.ENUM,
                "вид",
                enum=OrganizationKind,
                default=OrganizationKind.COMPANY,
                input_doc="COMPANY by default.",
            ),
            Field(
                "industries",
                Kind.STRINGS,
                "отрасль",
                link="EnterpriseIndustry",
                link_column="name",
            ),
            Field(
                "description",
                Kind.TEXT,
                "описание",
                searchable=SearchWeight.LEAD,
                max_length=5000,
                multiline=True,
                input_doc="Plain text.",
            ),
            Field(
                "locality",
                Kind.TEXT,
                "населённый пункт",
                searchable=SearchWeight.BODY,
            ),
            Field("region", Kind.REGION, "регион"),
            Field(
                "address",
                Kind.TEXT,
                "адрес",
                searchable=SearchWeight.BODY,
            ),
            Field("location", Kind.GEO_POINT, "координаты"),
            Field("website", Kind.URL, "сайт", input_doc="An http(s) URL."),
            Field(
                "logo", Kind.REFERENCE, "Медиафайл", target="MediaAsset", input_doc="A MediaAsset."
            ),
            Field(
                "inn",
                Kind.TEXT,
                "ИНН",
                check=inn_problem,
                doc="Taxpayer number (ИНН): 10 digits, 12 for an individual entrepreneur.",
            ),
            Field(
                "ogrn",
                Kind.TEXT,
                "ОГРН",
                check=ogrn_problem,
                doc="State registration number (ОГРН): 13 digits, 15 for an ОГРНИП.",
            ),
        ),
        parent="enterprise",
        title_field="name",
        input_description="An enterprise.",
    )
)


class EnterpriseIndustry(Model):
    id = fields.IntField(primary_key=True)
    enterprise: fields.ForeignKeyRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", related_name="industries", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=120)
    position = fields.IntField(default=0)

    class Meta:
        table = "enterprise_industry"
        unique_together = (("enterprise", "name"),)
        indexes = (Index(fields=("name", "enterprise_id")),)


class Visit(ContentModel):
    title = fields.CharField(max_length=500)
    delegation_region: fields.ForeignKeyRelation[Region] = fields.ForeignKeyField(
        "models.Region", related_name="delegation_visits", on_delete=fields.RESTRICT
    )
    delegation_region_id: int
    host_region: fields.ForeignKeyRelation[Region] = fields.ForeignKeyField(
        "models.Region", related_name="hosted_visits", on_delete=fields.RESTRICT
    )
    host_region_id: int
    starts_on = fields.DateField()
    ends_on = fields.DateField()
    organizer: fields.ForeignKeyNullableRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="organized_visits", null=True, on_delete=fields.SET_NULL
    )
    organizer_id: int | None
    action_plan: fields.ForeignKeyNullableRelation[ActionPlan] = fields.ForeignKeyField(
        "models.ActionPlan", related_name="visits", null=True, on_delete=fields.SET_NULL
    )
    action_plan_id: int | None

    class Meta:
        table = "visit"
        ordering = ("starts_on", "id")


VISIT = declare(
    Declaration(
        "Visit",
        Visit,
        "визит",
        "визита",
        "A visit of a delegation from one region to another, and the enterprises it saw.",
        (
            Field(
                "title",
                Kind.TEXT,
                "название",
                required=True,
            ),
            Field(
                "delegation_region",
                Kind.REGION,
                "регион делегации",
                required=True,
            ),
            Field(
                "host_region",
                Kind.REGION,
                "принимающий регион",
                required=True,
            ),
            Field("starts_on", Kind.DATE, "начало", required=True),
            Field(
                "ends_on",
                Kind.DATE,
                "окончание",
                required=True,
                not_before=(("starts_on", "Визит не может закончиться раньше начала."),),
            ),
            Field("organizer", Kind.REFERENCE, "Организация", target="Organization"),
            Field("action_plan", Kind.REFERENCE, "План мероприятий", target="ActionPlan"),
            Field(
                "enterprises",
                Kind.REFERENCES,
                "Предприятие",
                target="Enterprise",
                link="VisitEnterprise",
                link_column="enterprise_id",
                input_doc="In the order visited.",
            ),
        ),
        parent="visit",
        input_description="A visit of a delegation.",
    )
)


class VisitEnterprise(Model):
    # One stop of a visit; position is the order in which the delegation saw them.

    id = fields.IntField(primary_key=True)
    visit: fields.ForeignKeyRelation[Visit] = fields.ForeignKeyField(
        "models.Visit", related_name="enterprise_links", on_delete=fields.CASCADE
    )
    visit_id: int
    enterprise: fields.ForeignKeyRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", related_name="visit_links", on_delete=fields.RESTRICT
    )
    enterprise_id: int
    position = fields.IntField(default=0)

    class Meta:
        table = "visit_enterprise"
        unique_together = (("visit", "enterprise"),)
        indexes = (Index(fields=("enterprise_id", "visit_id")),)
