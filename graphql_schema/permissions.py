"""Who may ask for what, as GraphQL errors with UNAUTHENTICATED / FORBIDDEN codes."""

from __future__ import annotations

from graphql import GraphQLError

from cms.services.viewer import Viewer
from graphql_schema.errors import FORBIDDEN, UNAUTHENTICATED


def denied(viewer: Viewer, what: str) -> GraphQLError:
    if viewer.is_anonymous:
        return GraphQLError(f"{what}: нужно войти в систему.", extensions={"code": UNAUTHENTICATED})
    return GraphQLError(f"{what}: недостаточно прав.", extensions={"code": FORBIDDEN})


def require_drafts(viewer: Viewer, what: str) -> None:
    """Unpublished content is for staff and read-drafts tokens only."""
    if not viewer.sees_drafts:
        raise denied(viewer, what)
