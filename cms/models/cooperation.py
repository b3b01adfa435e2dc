"""Intergovernmental cooperation: regions, organisations and people, agreements, their
action plans, the visits of delegations and the enterprises they see."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from cms.models.base import ContentModel, PublishableModel, SearchableMixin


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


class CooperationDirection(ContentModel):
    slug = fields.CharField(max_length=120, unique=True)
    name = fields.CharField(max_length=200)

    class Meta:
        table = "cooperation_direction"
        ordering = ("name", "id")


class Event(ContentModel):
    slug = fields.CharField(max_length=200, unique=True)
    title = fields.CharField(max_length=300)
    starts_on = fields.DateField(null=True)
    ends_on = fields.DateField(null=True)
    place = fields.CharField(max_length=300, null=True)

    class Meta:
        table = "event"
        indexes = (Index(fields=("starts_on", "id")),)


class Agreement(SearchableMixin, PublishableModel):
    search_fields = ("title", "number", "summary", "body_text")
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
    search_fields = ("name", "description", "locality", "address")
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
