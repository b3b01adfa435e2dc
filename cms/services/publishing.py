"""Publication status as callers see it. SCHEDULED is derived, never stored."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from tortoise.expressions import Q

from cms.models.base import PublicationState, PublishableModel
from cms.services.visibility import now


class PublicationStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    ARCHIVED = "archived"


def status_q(status: PublicationStatus, *, prefix: str = "", at: datetime | None = None) -> Q:
    moment = at or now()
    published = PublicationState.PUBLISHED
    conditions: dict[str, Any]
    if status is PublicationStatus.SCHEDULED:
        conditions = {f"{prefix}status": published, f"{prefix}published_at__gt": moment}
    elif status is PublicationStatus.PUBLISHED:
        conditions = {f"{prefix}status": published, f"{prefix}published_at__lte": moment}
    else:
        conditions = {f"{prefix}status": PublicationState(status.value)}
    return Q(**conditions)


def publication_status(item: PublishableModel, *, at: datetime | None = None) -> PublicationStatus:
    if item.status == PublicationState.PUBLISHED:
        if item.published_at is not None and item.published_at > (at or now()):
            return PublicationStatus.SCHEDULED
        return PublicationStatus.PUBLISHED
    return PublicationStatus(item.status.value)
