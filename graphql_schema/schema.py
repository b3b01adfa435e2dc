"""The GraphQL schema, assembled from the areas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.types.base import get_object_definition

from graphql_schema.accounts import types as account_types
from graphql_schema.accounts.mutations import AccountMutations
from graphql_schema.accounts.queries import AccountQueries
from graphql_schema.appeals.mutations import AppealMutations
from graphql_schema.appeals.queries import AppealQueries
from graphql_schema.appeals.types import Appeal
from graphql_schema.audit import AuditMutation
from graphql_schema.common import DATETIME
from graphql_schema.content import types as content_types
from graphql_schema.cooperation.mutations import CooperationMutations
from graphql_schema.cooperation.queries import CooperationQueries
from graphql_schema.extensions import ErrorPolicy, SurrogateKeys
from graphql_schema.feedback.mutations import FeedbackMutations
from graphql_schema.feedback.queries import FeedbackQueries
from graphql_schema.feedback.types import FeedbackMessage
from graphql_schema.history.mutations import HistoryMutations
from graphql_schema.history.queries import HistoryQueries
from graphql_schema.limits import OperationLimits
from graphql_schema.media.mutations import MediaMutations
from graphql_schema.media.types import MediaAsset
from graphql_schema.news.mutations import NewsMutations
from graphql_schema.news.queries import NewsQueries
from graphql_schema.node import NodeQueries
from graphql_schema.search import SearchQueries
from graphql_schema.subscriptions import Subscription
from graphql_schema.sync import SyncQueries
from graphql_schema.syndication import SyndicationQueries
from graphql_schema.webhooks.mutations import WebhookMutations
from graphql_schema.webhooks.queries import WebhookQueries


@strawberry.type
class Query(
    NodeQueries,
    NewsQueries,
    CooperationQueries,
    AccountQueries,
    HistoryQueries,
    FeedbackQueries,
    SyndicationQueries,
    SyncQueries,
    AppealQueries,
    SearchQueries,
    WebhookQueries,
):
    pass


@strawberry.type
class Mutation(
    AccountMutations,
    NewsMutations,  # type: ignore[misc]  # made from declarations (content/declared.py)
    CooperationMutations,  # type: ignore[misc]
    HistoryMutations,
    FeedbackMutations,
    AppealMutations,
    MediaMutations,
    WebhookMutations,
):
    pass


# Every mutation is audited: attached here, so that none can be left out.
for _field in get_object_definition(Mutation, strict=True).fields:
    _field.extensions.append(AuditMutation())


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Strawberry logs every error with its traceback, a mistyped query too;
        ErrorPolicy logs the unexpected ones instead."""


def build_schema() -> Schema:
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        # Every Node type, so that `node` and `... on X` work even for types that
        # are only reachable through the interface.
        types=[
            content_types.News,
            content_types.Tag,
            content_types.Region,
            content_types.Organization,
            content_types.Person,
            content_types.CooperationDirection,
            content_types.Event,
            content_types.Agreement,
            content_types.ActionPlan,
            content_types.ActionPlanItem,
            content_types.Visit,
            content_types.Enterprise,
            MediaAsset,
            account_types.User,
            account_types.ApiToken,
            account_types.AuditEntry,
            FeedbackMessage,
            Appeal,
        ],
        # Limits first: a refused operation is never parsed further, validated or run.
        # OperationLimits parses and validates itself (within the limits), with its
        # own caches per document text (graphql_schema/limits.py).
        extensions=[OperationLimits, ErrorPolicy, SurrogateKeys],
        config=StrawberryConfig(auto_camel_case=True),
        scalar_overrides={datetime: DATETIME},
    )


schema = build_schema()
