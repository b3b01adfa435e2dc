"""Batch functions of the cooperation area; each costs one SQL statement per batch."""

from __future__ import annotations

from collections import defaultdict

from cms import models
from cms.services import batches
from cms.services.cooperation import ENTERPRISES_ORDER
from cms.services.pagination import Page, Window, pages_for_keys
from cms.services.viewer import Viewer
from cms.services.visibility import visible, visible_q


async def region_by_id(viewer: Viewer, ids: list[int]) -> list[models.Region | None]:
    return await batches.by_ids(models.Region, viewer, ids)


async def organization_by_id(viewer: Viewer, ids: list[int]) -> list[models.Organization | None]:
    return await batches.by_ids(models.Organization, viewer, ids)


async def person_by_id(viewer: Viewer, ids: list[int]) -> list[models.Person | None]:
    return await batches.by_ids(models.Person, viewer, ids)


async def direction_by_id(
    viewer: Viewer, ids: list[int]
) -> list[models.CooperationDirection | None]:
    return await batches.by_ids(models.CooperationDirection, viewer, ids)


async def event_by_id(viewer: Viewer, ids: list[int]) -> list[models.Event | None]:
    return await batches.by_ids(models.Event, viewer, ids)


async def agreement_by_id(viewer: Viewer, ids: list[int]) -> list[models.Agreement | None]:
    return await batches.by_ids(models.Agreement, viewer, ids)


async def agreement_by_slug(viewer: Viewer, slugs: list[str]) -> list[models.Agreement | None]:
    return await batches.by_field(models.Agreement, viewer, "slug", slugs)


async def action_plan_by_id(viewer: Viewer, ids: list[int]) -> list[models.ActionPlan | None]:
    return await batches.by_ids(models.ActionPlan, viewer, ids)


async def action_plan_by_slug(viewer: Viewer, slugs: list[str]) -> list[models.ActionPlan | None]:
    return await batches.by_field(models.ActionPlan, viewer, "slug", slugs)


async def visit_by_id(viewer: Viewer, ids: list[int]) -> list[models.Visit | None]:
    return await batches.by_ids(models.Visit, viewer, ids)


async def enterprise_by_id(viewer: Viewer, ids: list[int]) -> list[models.Enterprise | None]:
    return await batches.by_ids(models.Enterprise, viewer, ids)


async def enterprise_by_slug(viewer: Viewer, slugs: list[str]) -> list[models.Enterprise | None]:
    return await batches.by_field(models.Enterprise, viewer, "slug", slugs)


# The orders of reverse relations (also read by the compiler, graphql_schema/compiler).
ACTION_PLANS_ORDER = ("period_start", "id")
VISITS_ORDER = ("starts_on", "id")


async def parties_of_agreements(
    viewer: Viewer, agreement_ids: list[int]
) -> list[list[models.Organization]]:
    return await batches.linked(
        models.AgreementParty,
        "agreement",
        "organization",
        models.Organization,
        viewer,
        agreement_ids,
    )


async def action_plans_of_agreements(
    viewer: Viewer, agreement_ids: list[int]
) -> list[list[models.ActionPlan]]:
    return await batches.children(
        models.ActionPlan, "agreement", viewer, agreement_ids, ACTION_PLANS_ORDER
    )


async def signatories_of_plans(viewer: Viewer, plan_ids: list[int]) -> list[list[models.Person]]:
    return await batches.linked(
        models.ActionPlanSignatory, "action_plan", "person", models.Person, viewer, plan_ids
    )


async def directions_of_plans(
    viewer: Viewer, plan_ids: list[int]
) -> list[list[models.CooperationDirection]]:
    return await batches.linked(
        models.ActionPlanDirection,
        "action_plan",
        "direction",
        models.CooperationDirection,
        viewer,
        plan_ids,
    )


async def items_of_plans(viewer: Viewer, plan_ids: list[int]) -> list[list[models.ActionPlanItem]]:
    return await batches.children(
        models.ActionPlanItem, "action_plan", viewer, plan_ids, ("position", "id")
    )


async def visits_of_plans(viewer: Viewer, plan_ids: list[int]) -> list[list[models.Visit]]:
    return await batches.children(models.Visit, "action_plan", viewer, plan_ids, VISITS_ORDER)


async def enterprises_of_visits(
    viewer: Viewer, visit_ids: list[int]
) -> list[list[models.Enterprise]]:
    return await batches.linked(
        models.VisitEnterprise, "visit", "enterprise", models.Enterprise, viewer, visit_ids
    )


async def visits_of_enterprises(
    viewer: Viewer, enterprise_ids: list[int]
) -> list[list[models.Visit]]:
    return await batches.linked(
        models.VisitEnterprise, "enterprise", "visit", models.Visit, viewer, enterprise_ids
    )


async def visited_enterprises_of_plans(
    viewer: Viewer, plan_ids: list[int]
) -> list[list[models.Enterprise]]:
    """Every enterprise of a plan's visits once, in the order they were first visited."""
    stops = (
        await models.VisitEnterprise.filter(
            visible_q(models.Visit, viewer, prefix="visit__"),
            visible_q(models.Enterprise, viewer, prefix="enterprise__"),
            visit__action_plan_id__in=set(plan_ids),
        )
        .select_related("enterprise", "visit")
        .order_by("visit__starts_on", "visit_id", "position", "id")
    )
    # by plan: every visit here has one (the filter), though the column may be empty
    grouped: dict[int | None, dict[int, models.Enterprise]] = defaultdict(dict)
    for stop in stops:
        grouped[stop.visit.action_plan_id].setdefault(stop.enterprise_id, stop.enterprise)
    return [list(grouped[pk].values()) for pk in plan_ids]


async def industries_of_enterprises(viewer: Viewer, enterprise_ids: list[int]) -> list[list[str]]:
    rows = (
        await models.EnterpriseIndustry.filter(enterprise_id__in=set(enterprise_ids))
        .order_by("enterprise_id", "position", "id")
        .values_list("enterprise_id", "name")
    )
    grouped: dict[int, list[str]] = defaultdict(list)
    for enterprise_id, name in rows:
        grouped[enterprise_id].append(name)
    return [grouped.get(pk, []) for pk in enterprise_ids]


async def enterprise_pages_of_regions(
    viewer: Viewer, keys: list[tuple[int, Window]]
) -> list[Page[models.Enterprise]]:
    return await pages_for_keys(
        visible(models.Enterprise, viewer), "region_id", ENTERPRISES_ORDER, keys
    )


async def action_plan_item_by_id(
    viewer: Viewer, ids: list[int]
) -> list[models.ActionPlanItem | None]:
    return await batches.by_ids(models.ActionPlanItem, viewer, ids)
