"""`node(id)`: any object by its global ID, through the same loaders as everything else.

Content types are filtered by the loaders (visibility). Accounts, tokens and the audit
log are not content: the permission that guards their lists guards their nodes too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry

from cms.services.permissions import Action, allowed
from cms.services.viewer import Viewer
from graphql_schema.accounts import dataloaders as account_loaders
from graphql_schema.accounts import types as accounts
from graphql_schema.appeals.dataloaders import appeal_by_id
from graphql_schema.appeals.types import Appeal
from graphql_schema.content import types
from graphql_schema.context import BatchFunction, Info
from graphql_schema.cooperation import dataloaders as cooperation_loaders
from graphql_schema.errors import bad_input
from graphql_schema.feedback.dataloaders import feedback_by_id
from graphql_schema.feedback.types import FeedbackMessage
from graphql_schema.media.dataloaders import media_by_id
from graphql_schema.media.types import MediaAsset
from graphql_schema.news import dataloaders as news_loaders
from graphql_schema.relay import Node, parse_global_id

# type name -> (batch function by primary key, row -> GraphQL object)
NODE_TYPES: dict[str, tuple[BatchFunction, Callable[[Any], Node]]] = {
    "News": (news_loaders.news_by_id, types.News.from_row),
    "Tag": (news_loaders.tag_by_id, types.Tag.from_row),
    "Region": (cooperation_loaders.region_by_id, types.Region.from_row),
    "Organization": (cooperation_loaders.organization_by_id, types.Organization.from_row),
    "Person": (cooperation_loaders.person_by_id, types.Person.from_row),
    "CooperationDirection": (
        cooperation_loaders.direction_by_id,
        types.CooperationDirection.from_row,
    ),
    "Event": (cooperation_loaders.event_by_id, types.Event.from_row),
    "Agreement": (cooperation_loaders.agreement_by_id, types.Agreement.from_row),
    "ActionPlan": (cooperation_loaders.action_plan_by_id, types.ActionPlan.from_row),
    "ActionPlanItem": (
        cooperation_loaders.action_plan_item_by_id,
        types.ActionPlanItem.from_row,
    ),
    "Visit": (cooperation_loaders.visit_by_id, types.Visit.from_row),
    "Enterprise": (cooperation_loaders.enterprise_by_id, types.Enterprise.from_row),
    "MediaAsset": (media_by_id, MediaAsset.from_row),
    "FeedbackMessage": (feedback_by_id, FeedbackMessage.from_row),
    "Appeal": (appeal_by_id, Appeal.from_row),
    "User": (account_loaders.user_by_id, accounts.User.from_row),
    "ApiToken": (account_loaders.token_by_id, accounts.ApiToken.from_row),
    "AuditEntry": (account_loaders.audit_entry_by_id, accounts.AuditEntry.from_row),
}


def _may_see_user(viewer: Viewer, pk: int) -> bool:
    # Everyone signed in sees themselves (a Relay client refetches `me`); admins see all.
    return viewer.user_id == pk or allowed(viewer, Action.MANAGE_USERS)


# type name -> who may see a node of it (viewer, primary key); the rule of its list query
# (`users`, `apiTokens`, `auditLog`). Other types: their loaders apply visibility.
NODE_PERMISSIONS: dict[str, Callable[[Viewer, int], bool]] = {
    "User": _may_see_user,
    "ApiToken": lambda viewer, pk: allowed(viewer, Action.MANAGE_TOKENS),
    "AuditEntry": lambda viewer, pk: allowed(viewer, Action.READ_HISTORY),
}


@strawberry.type
class NodeQueries:
    @strawberry.field(description="Any object by its global ID; null when none is visible.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        type_name, pk = parse_global_id(id)
        entry = NODE_TYPES.get(type_name)
        if entry is None:
            raise bad_input("id", f"Тип {type_name} не поддерживается в node.")
        batch, convert = entry
        permission = NODE_PERMISSIONS.get(type_name)
        if permission is not None and not permission(info.context.viewer, pk):
            return None
        row = await info.context.loaders[batch].load(pk)
        return convert(row) if row is not None else None
