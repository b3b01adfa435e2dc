"""Who may ask for what, as GraphQL errors with UNAUTHENTICATED / FORBIDDEN codes."""

from __future__ import annotations

from graphql import GraphQLError

from cms.errors import Code
from cms.services.permissions import Action, allowed
from cms.services.viewer import Viewer


def denied(viewer: Viewer, what: str) -> GraphQLError:
    if viewer.is_anonymous:
        return GraphQLError(
            f"{what}: нужно войти в систему.", extensions={"code": Code.UNAUTHENTICATED}
        )
    return GraphQLError(f"{what}: недостаточно прав.", extensions={"code": Code.FORBIDDEN})


def require(viewer: Viewer, action: Action, what: str) -> None:
    """Raises UNAUTHENTICATED for anonymous callers, FORBIDDEN for others without the right."""
    if not allowed(viewer, action):
        raise denied(viewer, what)


def require_drafts(viewer: Viewer, what: str) -> None:
    """Unpublished content is for staff and read-drafts tokens only."""
    require(viewer, Action.READ_DRAFTS, what)
