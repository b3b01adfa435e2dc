"""What a subscriber is told of each change, by what it may see (the rule itself;
the tests over a server show it end to end)."""

from __future__ import annotations

import pytest

from cms.models import Role
from cms.services.live_events import WENT_LIVE, LiveEvent
from cms.services.viewer import Viewer
from graphql_schema.subscriptions import ContentAction, action_for

PUBLIC = Viewer()
STAFF = Viewer(user_id=1, role=Role.EDITOR)


@pytest.mark.parametrize(
    ("action", "public_ids", "visible", "viewer", "told"),
    [
        # Visible now: the change as it is.
        ("published", (), True, PUBLIC, ContentAction.PUBLISHED),
        (WENT_LIVE, (), True, PUBLIC, ContentAction.PUBLISHED),
        ("updated", (), True, PUBLIC, ContentAction.UPDATED),
        ("created", (), True, STAFF, ContentAction.CREATED),
        ("unpublished", (), True, STAFF, ContentAction.UNPUBLISHED),
        ("restored", (), True, STAFF, ContentAction.RESTORED),
        # Not visible, and not a removal: a draft's change, a publication still scheduled.
        ("created", (), False, PUBLIC, None),
        ("updated", (), False, PUBLIC, None),
        ("published", (), False, PUBLIC, None),
        # Removals: the public hears of what it could see, as REMOVED; staff of all.
        ("unpublished", (7,), False, PUBLIC, ContentAction.REMOVED),
        ("deleted", (7,), False, PUBLIC, ContentAction.REMOVED),
        ("deleted", (), False, PUBLIC, None),
        ("purged", (), False, PUBLIC, None),
        ("deleted", (), False, STAFF, ContentAction.DELETED),
        ("purged", (), False, STAFF, ContentAction.DELETED),
        ("merged", (7,), False, PUBLIC, ContentAction.REMOVED),
        ("merged", (7,), False, STAFF, ContentAction.DELETED),
        ("merged", (7,), True, PUBLIC, ContentAction.UPDATED),
        # An action nobody knows is not passed on.
        ("renamed", (7,), True, STAFF, None),
    ],
)
def test_what_a_subscriber_is_told(
    action: str,
    public_ids: tuple[int, ...],
    visible: bool,
    viewer: Viewer,
    told: ContentAction | None,
) -> None:
    event = LiveEvent("News", (7,), action, public_ids)
    assert action_for(event, 7, visible, viewer) is told
