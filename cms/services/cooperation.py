"""Reading cooperation content: filters and orderings of its lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tortoise.expressions import Q, Subquery, Value
from tortoise.functions import Coalesce
from tortoise.queryset import QuerySet

from cms.errors import InvalidArgumentError
from cms.models import (
    ActionPlan,
    Agreement,
    AgreementParty,
    AgreementStatus,
    Enterprise,
    EnterpriseIndustry,
    Event,
    Region,
)
from cms.services.columns import fits as fits_column
from cms.services.fulltext import matching_q
from cms.services.pagination import Ordering, SortKey
from cms.services.viewer import Viewer
from cms.services.visibility import visible

AGREEMENTS_ORDER = Ordering("agreement:title", (SortKey("title", "str"), SortKey("id", "int")))
ACTION_PLANS_ORDER = Ordering(
    "action_plan:period_start_desc",
    (SortKey("period_start", "date", True), SortKey("id", "int", True)),
)
ENTERPRISES_ORDER = Ordering("enterprise:name", (SortKey("name", "str"), SortKey("id", "int")))
# Events without a date come last: their sort key is the earliest possible date.
EVENTS_ORDER = Ordering(
    "event:starts_on_desc",
    (SortKey("sort_starts_on", "date", True), SortKey("id", "int", True)),
)
_NO_DATE = date(1, 1, 1)


@dataclass(frozen=True, slots=True)
class AgreementFilter:
    region: str | None = None
    agreement_status: AgreementStatus | None = None
    search: str | None = None


@dataclass(frozen=True, slots=True)
class BoundingBox:
    south: float
    west: float
    north: float
    east: float

    def validate(self, argument: str) -> None:
        for name in ("south", "north"):
            if not -90 <= getattr(self, name) <= 90:
                raise InvalidArgumentError(
                    f"{argument}.{name}", "Широта должна быть от -90 до 90 градусов."
                )
        for name in ("west", "east"):
            if not -180 <= getattr(self, name) <= 180:
                raise InvalidArgumentError(
                    f"{argument}.{name}", "Долгота должна быть от -180 до 180 градусов."
                )
        if self.south > self.north:
            raise InvalidArgumentError(
                f"{argument}.south", "Южная граница (south) должна быть не севернее северной."
            )


@dataclass(frozen=True, slots=True)
class EnterpriseFilter:
    region: str | None = None
    locality: str | None = None
    industry: str | None = None
    search: str | None = None
    within: BoundingBox | None = None


def agreements_queryset(viewer: Viewer, agreement_filter: AgreementFilter) -> QuerySet[Agreement]:
    queryset = visible(Agreement, viewer)
    if agreement_filter.region is not None and not fits_column(
        Region, "code", agreement_filter.region
    ):
        return queryset.filter(id__in=[])  # a code longer than any has no parties
    if agreement_filter.region is not None:
        queryset = queryset.filter(
            id__in=Subquery(
                AgreementParty.filter(organization__region__code=agreement_filter.region).values(
                    "agreement_id"
                )
            )
        )
    if agreement_filter.agreement_status is not None:
        queryset = queryset.filter(agreement_status=agreement_filter.agreement_status)
    if agreement_filter.search is not None:
        queryset = queryset.filter(matching_q(Agreement, agreement_filter.search, "filter.search"))
    return queryset


def action_plans_queryset(viewer: Viewer, agreement_id: int | None) -> QuerySet[ActionPlan]:
    queryset = visible(ActionPlan, viewer)
    if agreement_id is not None:
        queryset = queryset.filter(agreement_id=agreement_id)
    return queryset


def enterprises_queryset(
    viewer: Viewer, enterprise_filter: EnterpriseFilter
) -> QuerySet[Enterprise]:
    queryset = visible(Enterprise, viewer)
    # A code or name longer than its column names nothing: the list is empty.
    if not all(
        value is None or fits_column(model, field, value.strip())
        for model, field, value in (
            (Region, "code", enterprise_filter.region),
            (Enterprise, "locality", enterprise_filter.locality),
            (EnterpriseIndustry, "name", enterprise_filter.industry),
        )
    ):
        return queryset.filter(id__in=[])
    if enterprise_filter.region is not None:
        queryset = queryset.filter(region__code=enterprise_filter.region)
    if enterprise_filter.locality is not None:
        queryset = queryset.filter(locality=enterprise_filter.locality.strip())
    if enterprise_filter.industry is not None:
        queryset = queryset.filter(
            id__in=Subquery(
                EnterpriseIndustry.filter(name=enterprise_filter.industry.strip()).values(
                    "enterprise_id"
                )
            )
        )
    if enterprise_filter.search is not None:
        queryset = queryset.filter(
            matching_q(Enterprise, enterprise_filter.search, "filter.search")
        )
    box = enterprise_filter.within
    if box is not None:
        box.validate("filter.within")
        queryset = queryset.filter(latitude__gte=box.south, latitude__lte=box.north)
        if box.west <= box.east:
            queryset = queryset.filter(longitude__gte=box.west, longitude__lte=box.east)
        else:  # the box crosses the antimeridian
            queryset = queryset.filter(Q(longitude__gte=box.west) | Q(longitude__lte=box.east))
    return queryset


def events_queryset(viewer: Viewer) -> QuerySet[Event]:
    return visible(Event, viewer).annotate(sort_starts_on=Coalesce("starts_on", Value(_NO_DATE)))
