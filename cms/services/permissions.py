"""What each role and token scope may do. The API checks these before acting;
object-level rules (an AUTHOR's own drafts) live in the services that act."""

from __future__ import annotations

from enum import StrEnum

from tortoise.models import Model

from cms.models.accounts import Role, TokenScope
from cms.models.base import PublishableModel
from cms.services.viewer import Viewer


class Action(StrEnum):
    READ_DRAFTS = "read_drafts"
    EDIT_CONTENT = "edit_content"  # create, and update drafts
    PUBLISH = "publish"  # publish, unpublish, edit published items
    DELETE = "delete"
    READ_HISTORY = "read_history"  # revisions and the audit log
    MANAGE_TRASH = "manage_trash"
    UPLOAD_MEDIA = "upload_media"
    READ_FEEDBACK = "read_feedback"  # messages with personal data
    COUNT_FEEDBACK = "count_feedback"
    MANAGE_FEEDBACK = "manage_feedback"
    MANAGE_PERSONAL_DATA = "manage_personal_data"  # export and erase one person's data
    MANAGE_TOKENS = "manage_tokens"
    MANAGE_USERS = "manage_users"
    # Appeals (59-FZ): extending an answer's deadline is the head of office's decision.
    EXTEND_APPEAL_DEADLINE = "extend_appeal_deadline"
    MANAGE_CONSENT_DOCUMENTS = "manage_consent_documents"  # the 152-FZ consent text
    MANAGE_WEBHOOKS = "manage_webhooks"  # endpoints, their secrets and delivery log


_ROLES: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.EDITOR: frozenset(Action)
    - {
        Action.MANAGE_TRASH,
        Action.MANAGE_TOKENS,
        Action.MANAGE_USERS,
        Action.MANAGE_PERSONAL_DATA,
        Action.EXTEND_APPEAL_DEADLINE,
        Action.MANAGE_CONSENT_DOCUMENTS,
        Action.MANAGE_WEBHOOKS,
    },
    Role.AUTHOR: frozenset(
        {
            Action.READ_DRAFTS,
            Action.EDIT_CONTENT,
            Action.READ_HISTORY,
            Action.UPLOAD_MEDIA,
            Action.COUNT_FEEDBACK,
        }
    ),
    Role.VIEWER: frozenset({Action.READ_DRAFTS, Action.READ_HISTORY, Action.COUNT_FEEDBACK}),
    # The head of the office: the appeals and their deadlines, no content editing.
    Role.HEAD: frozenset(
        {
            Action.READ_DRAFTS,
            Action.READ_HISTORY,
            Action.READ_FEEDBACK,
            Action.COUNT_FEEDBACK,
            Action.MANAGE_FEEDBACK,
            Action.EXTEND_APPEAL_DEADLINE,
        }
    ),
}
_SCOPES: dict[TokenScope, frozenset[Action]] = {
    TokenScope.READ: frozenset(),
    TokenScope.READ_DRAFTS: frozenset({Action.READ_DRAFTS}),
    TokenScope.WRITE: frozenset({Action.READ_DRAFTS, Action.EDIT_CONTENT, Action.UPLOAD_MEDIA}),
}


def allowed(viewer: Viewer, action: Action) -> bool:
    if viewer.role is not None and action in _ROLES[viewer.role]:
        return True
    return any(action in _SCOPES[scope] for scope in viewer.scopes)


def action_to_write(model: type[Model]) -> Action:
    """What creating, changing or deleting an item of `model` takes (on top of the
    object-level rules in editing). A type without a publication state (tags,
    organisations, persons, directions, events, visits, enterprises) is public the
    moment it is written, so writing it is publishing: only roles that may publish
    may, and AUTHOR and WRITE tokens cannot put anything before the public without
    review. The tags an author's news names are created with that news and stay
    hidden until something public uses them (visibility)."""
    return Action.EDIT_CONTENT if issubclass(model, PublishableModel) else Action.PUBLISH
