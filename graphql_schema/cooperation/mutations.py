"""Mutations of the cooperation area: organisations, people, directions, events,
agreements, action plans with their items, visits and enterprises. Each is made
from its type's declaration (graphql_schema/content/declared.py)."""

from __future__ import annotations

from cms.services.content_types import (
    ACTION_PLAN,
    AGREEMENT,
    DIRECTION,
    ENTERPRISE,
    EVENT,
    ORGANIZATION,
    PERSON,
    VISIT,
)
from graphql_schema.content import types
from graphql_schema.content.declared import ContentMutations, mutation_type

CooperationMutations = mutation_type(
    "CooperationMutations",
    ContentMutations(ORGANIZATION, types.Organization),
    ContentMutations(
        PERSON,
        types.Person,
        docs={
            "delete": "Moves a person to the trash; their quotes and signatures are hidden "
            "with them and come back on restore."
        },
    ),
    ContentMutations(DIRECTION, types.CooperationDirection, payload_field="direction"),
    ContentMutations(EVENT, types.Event),
    ContentMutations(
        AGREEMENT,
        types.Agreement,
        docs={
            "create": "A new draft agreement.",
            "unpublish": "Back to a draft; its action plans are hidden with it.",
            "delete": "Moves an agreement to the trash; its action plans are hidden with it.",
        },
    ),
    ContentMutations(
        ACTION_PLAN,
        types.ActionPlan,
        docs={"create": "A new draft action plan with its items."},
    ),
    ContentMutations(VISIT, types.Visit),
    ContentMutations(
        ENTERPRISE,
        types.Enterprise,
        docs={"delete": "Moves an enterprise to the trash; visits hide it."},
    ),
)
