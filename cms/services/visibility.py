"""The one place that decides what a caller may see.

Every list, lookup, relation, count, search and feed builds its queryset from
`visible()` or adds `visible_q()` for a related model; nothing else filters on
status, publication time or the trash.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeVar

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from cms.models.appeals import Appeal, AppealEvent
from cms.models.base import ContentModel, PublicationState, PublishableModel
from cms.models.cooperation import ActionPlan, ActionPlanItem, Agreement
from cms.models.feedback import FeedbackMessage
from cms.services.permissions import Action, allowed
from cms.services.viewer import Viewer

M = TypeVar("M", bound=Model)

# Rows that exist only as part of another: (foreign key to the whole, its model).
_PART_OF: dict[type[Model], tuple[str, type[Model]]] = {
    ActionPlan: ("agreement", Agreement),
    ActionPlanItem: ("action_plan", ActionPlan),
}


def now() -> datetime:
    return datetime.now(UTC)


def visible_q(model: type[Model], viewer: Viewer, *, prefix: str = "") -> Q:
    """Conditions for rows of `model` the viewer may see; `prefix` (e.g. "news__")
    applies them to a related model from another one."""
    conditions: dict[str, object] = {}
    if model in (FeedbackMessage, Appeal, AppealEvent) and not allowed(
        viewer, Action.READ_FEEDBACK
    ):
        # Messages hold personal data: only roles that may read it see any (an
        # appeal and its history are part of its message).
        conditions[f"{prefix}id__in"] = []
    if issubclass(model, ContentModel):
        conditions[f"{prefix}deleted_at__isnull"] = True
    if issubclass(model, PublishableModel) and not viewer.sees_drafts:
        conditions[f"{prefix}status"] = PublicationState.PUBLISHED
        conditions[f"{prefix}published_at__lte"] = now()
    q = Q(**conditions)
    parent = _PART_OF.get(model)
    if parent is not None:
        # A part is hidden whenever the whole it belongs to is.
        parent_field, parent_model = parent
        q &= visible_q(parent_model, viewer, prefix=f"{prefix}{parent_field}__")
    return q


def visible(model: type[M], viewer: Viewer) -> QuerySet[M]:
    return model.filter(visible_q(model, viewer))
