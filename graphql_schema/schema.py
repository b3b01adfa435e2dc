"""The GraphQL schema, assembled from the areas."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig

from graphql_schema.cooperation import types as cooperation_types
from graphql_schema.cooperation.queries import CooperationQueries
from graphql_schema.extensions import ErrorPolicy
from graphql_schema.media.types import MediaAsset
from graphql_schema.news import types as news_types
from graphql_schema.news.queries import NewsQueries
from graphql_schema.node import NodeQueries


@strawberry.type
class Query(NodeQueries, NewsQueries, CooperationQueries):
    pass


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Strawberry logs every error with its traceback, a mistyped query too;
        ErrorPolicy logs the unexpected ones instead."""


def build_schema() -> Schema:
    return Schema(
        query=Query,
        # Every Node type, so that `node` and `... on X` work even for types that
        # are only reachable through the interface.
        types=[
            news_types.News,
            news_types.Tag,
            cooperation_types.Region,
            cooperation_types.Organization,
            cooperation_types.Person,
            cooperation_types.CooperationDirection,
            cooperation_types.Event,
            cooperation_types.Agreement,
            cooperation_types.ActionPlan,
            cooperation_types.ActionPlanItem,
            cooperation_types.Visit,
            cooperation_types.Enterprise,
            MediaAsset,
        ],
        extensions=[ErrorPolicy],
        config=StrawberryConfig(auto_camel_case=True),
    )


schema = build_schema()
