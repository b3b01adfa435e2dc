"""The editable content types: what a revision snapshot holds for each, and how
its links are stored. Editing, revisions and the trash are written once against
these descriptions instead of once per type."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tortoise.models import Model

from cms.models import (
    ActionPlan,
    ActionPlanDirection,
    ActionPlanItem,
    ActionPlanSignatory,
    Agreement,
    AgreementDocument,
    AgreementParty,
    ContentModel,
    CooperationDirection,
    Enterprise,
    EnterpriseIndustry,
    Event,
    MediaAsset,
    News,
    NewsAgreement,
    NewsEvent,
    NewsRegion,
    NewsTag,
    Organization,
    Person,
    Quote,
    Region,
    Tag,
    Visit,
    VisitEnterprise,
)


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

    def link(self, name: str) -> LinkSpec:
        return next(spec for spec in self.links if spec.name == name)


def _link(
    name: str,
    model: type[Model],
    parent: str,
    *columns: str,
    references: Mapping[str, type[Model]] | None = None,
    keeps_ids: bool = False,
) -> LinkSpec:
    return LinkSpec(name, model, parent, columns, references or {}, keeps_ids)


NEWS = ContentType(
    "News",
    News,
    "новость",
    (
        "slug",
        "title",
        "lead",
        "body_html",
        "body_text",
        "cover_id",
        "visit_id",
        "status",
        "published_at",
    ),
    links=(
        _link("tags", NewsTag, "news", "tag_id", references={"tag_id": Tag}),
        _link("regions", NewsRegion, "news", "region_id", references={"region_id": Region}),
        _link("events", NewsEvent, "news", "event_id", references={"event_id": Event}),
        _link(
            "agreements",
            NewsAgreement,
            "news",
            "agreement_id",
            references={"agreement_id": Agreement},
        ),
        _link("quotes", Quote, "news", "person_id", "text", references={"person_id": Person}),
    ),
    references={"cover_id": MediaAsset, "visit_id": Visit},
)
TAG = ContentType("Tag", Tag, "тег", ("slug", "name"), title_field="name")
ORGANIZATION = ContentType(
    "Organization",
    Organization,
    "организация",
    ("name", "short_name", "kind", "region_id"),
    title_field="name",
    references={"region_id": Region},
)
PERSON = ContentType(
    "Person",
    Person,
    "персона",
    ("full_name", "position", "organization_id", "photo_id"),
    title_field="full_name",
    references={"organization_id": Organization, "photo_id": MediaAsset},
)
DIRECTION = ContentType(
    "CooperationDirection",
    CooperationDirection,
    "направление сотрудничества",
    ("slug", "name"),
    title_field="name",
)
EVENT = ContentType("Event", Event, "событие", ("slug", "title", "starts_on", "ends_on", "place"))
AGREEMENT = ContentType(
    "Agreement",
    Agreement,
    "соглашение",
    (
        "slug",
        "title",
        "number",
        "signed_on",
        "in_force_since",
        "valid_until",
        "agreement_status",
        "summary",
        "body_html",
        "body_text",
        "status",
        "published_at",
    ),
    links=(
        _link(
            "parties",
            AgreementParty,
            "agreement",
            "organization_id",
            references={"organization_id": Organization},
        ),
        _link(
            "documents",
            AgreementDocument,
            "agreement",
            "asset_id",
            references={"asset_id": MediaAsset},
        ),
    ),
)
ACTION_PLAN = ContentType(
    "ActionPlan",
    ActionPlan,
    "план мероприятий",
    (
        "slug",
        "title",
        "agreement_id",
        "period_start",
        "period_end",
        "signed_on",
        "signed_at",
        "status",
        "published_at",
    ),
    links=(
        _link(
            "signatories",
            ActionPlanSignatory,
            "action_plan",
            "person_id",
            references={"person_id": Person},
        ),
        _link(
            "directions",
            ActionPlanDirection,
            "action_plan",
            "direction_id",
            references={"direction_id": CooperationDirection},
        ),
        _link(
            "items",
            ActionPlanItem,
            "action_plan",
            "title",
            "direction_id",
            "due_on",
            "responsible",
            "item_status",
            "event_id",
            references={"direction_id": CooperationDirection, "event_id": Event},
            keeps_ids=True,
        ),
    ),
    references={"agreement_id": Agreement},
)
VISIT = ContentType(
    "Visit",
    Visit,
    "визит",
    (
        "title",
        "delegation_region_id",
        "host_region_id",
        "starts_on",
        "ends_on",
        "organizer_id",
        "action_plan_id",
    ),
    links=(
        _link(
            "enterprises",
            VisitEnterprise,
            "visit",
            "enterprise_id",
            references={"enterprise_id": Enterprise},
        ),
    ),
    references={
        "delegation_region_id": Region,
        "host_region_id": Region,
        "organizer_id": Organization,
        "action_plan_id": ActionPlan,
    },
)
ENTERPRISE = ContentType(
    "Enterprise",
    Enterprise,
    "предприятие",
    (
        "slug",
        "name",
        "kind",
        "description",
        "locality",
        "region_id",
        "address",
        "latitude",
        "longitude",
        "website",
        "logo_id",
    ),
    title_field="name",
    links=(_link("industries", EnterpriseIndustry, "enterprise", "name"),),
    references={"region_id": Region, "logo_id": MediaAsset},
)

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
