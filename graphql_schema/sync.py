"""Delta sync for integrators: `sync(token, types, first)` (cms/services/sync.py)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from cms.services import sync as domain
from cms.services.ids import encode_global_id
from graphql_schema.context import Info
from graphql_schema.node import NODE_TYPES
from graphql_schema.relay import Node


@strawberry.enum(description="The kinds of content.")
class ContentKind(Enum):
    NEWS = "News"
    TAG = "Tag"
    ORGANIZATION = "Organization"
    PERSON = "Person"
    COOPERATION_DIRECTION = "CooperationDirection"
    EVENT = "Event"
    AGREEMENT = "Agreement"
    ACTION_PLAN = "ActionPlan"
    VISIT = "Visit"
    ENTERPRISE = "Enterprise"


@strawberry.type(description="An item the caller may no longer see: remove it from a mirror.")
class SyncDeletion:
    id: strawberry.ID = strawberry.field(description="The item's global ID.")
    kind: ContentKind
    deleted_at: datetime = strawberry.field(
        description="When it was trashed, deleted, unpublished or hidden with what it belongs to."
    )


@strawberry.type(
    description="One page of a sync. Apply `items` (each the current version) and "
    "`deletions`; fetch the next page with `nextPageToken`, and keep `nextSyncToken` "
    "(on the last page) for the next sync."
)
class SyncPage:
    items: list[Node]
    deletions: list[SyncDeletion]
    next_page_token: str | None = strawberry.field(
        description="Present while this sync has more pages: pass it as `token`."
    )
    next_sync_token: str | None = strawberry.field(
        description="On the last page: pass it as `token` next time to get only what changed."
    )


@strawberry.type
class SyncQueries:
    @strawberry.field(
        description="Delta sync. Without `token`: everything visible to the caller, page by "
        "page (no deletions). With the `nextSyncToken` of the last sync: what changed since, "
        "deletions included; scheduled items appear when their time has come. A token is "
        "good for CMS_TRASH_RETENTION_DAYS (30 days by default); an expired one answers "
        "SYNC_TOKEN_EXPIRED and the client starts over."
    )
    async def sync(
        self,
        info: Info,
        token: str | None = None,
        types: list[ContentKind] | None = None,
        first: int = domain.MAX_PAGE,
    ) -> SyncPage:
        context = info.context
        page = await domain.sync(
            context.settings,
            context.viewer,
            token=token,
            kinds=None if types is None else [kind.value for kind in types],
            first=first,
        )
        return SyncPage(
            items=[NODE_TYPES[kind][1](row) for kind, row in page.items],
            deletions=[
                SyncDeletion(
                    id=strawberry.ID(encode_global_id(d.kind, d.pk)),
                    kind=ContentKind(d.kind),
                    deleted_at=d.deleted_at,
                )
                for d in page.deletions
            ],
            next_page_token=page.next_page_token,
            next_sync_token=page.next_sync_token,
        )
