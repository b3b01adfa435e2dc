"""GraphQL subscriptions: content changes as they are committed (cms/services/live_events.py).

Every event is checked for each subscriber as the caller it is: the changed item is
loaded by the same batch functions (and so the same visibility rules) as a query's
loaders, for each event afresh (once per visibility scope in a process), and sent
through the normal types, whose nested fields use fresh loaders too. What the caller may
not see is not sent: a change to a draft reaches only subscribers who see drafts; an
item that leaves the public's view (unpublished, trashed) reaches the public as
REMOVED with its ID and no content; a scheduled item reaches the public when it goes
live. The transport (graphql-transport-ws, its limits and who the caller is) is the
HTTP edge's: web/subscriptions.py.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncGenerator, Collection, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import strawberry
from graphql import GraphQLError

from cms.errors import Code
from cms.services.live_events import REMOVALS, WENT_LIVE, LiveEvent
from cms.services.viewer import Viewer
from graphql_schema.content.types import News
from graphql_schema.context import Info, Loaders
from graphql_schema.errors import bad_input
from graphql_schema.node import NODE_TYPES
from graphql_schema.relay import Node, global_id, parse_global_id, parse_typed_id
from graphql_schema.sync import ContentKind


@strawberry.enum(description="What happened to an item, as the subscriber may know it.")
class ContentAction(Enum):
    CREATED = "created"
    UPDATED = "updated"
    PUBLISHED = strawberry.enum_value(
        "published", description="Published now, or a scheduled item went live."
    )
    UNPUBLISHED = strawberry.enum_value(
        "unpublished", description="Back to a draft (to subscribers who see drafts)."
    )
    REMOVED = strawberry.enum_value(
        "removed",
        description="No longer visible to the subscriber (unpublished, trashed, merged into "
        "another): remove it. The item is null.",
    )
    DELETED = strawberry.enum_value(
        "deleted", description="Moved to the trash or purged (to subscribers who see drafts)."
    )
    RESTORED = strawberry.enum_value("restored", description="Taken back from the trash.")


# The actions of cms.services.events (and going live) as subscribers see them.
_ACTIONS: dict[str, ContentAction] = {
    "created": ContentAction.CREATED,
    "updated": ContentAction.UPDATED,
    "merged": ContentAction.UPDATED,
    "published": ContentAction.PUBLISHED,
    WENT_LIVE: ContentAction.PUBLISHED,
    "unpublished": ContentAction.UNPUBLISHED,
    "deleted": ContentAction.DELETED,
    "purged": ContentAction.DELETED,
    "restored": ContentAction.RESTORED,
}
# A tag merged into another is gone: a removal, for subscribers that cannot load it.
_GONE = REMOVALS | {"merged"}


@strawberry.type(description="A change to an item of content.")
class ContentChangeEvent:
    action: ContentAction
    kind: ContentKind
    id: strawberry.ID = strawberry.field(description="The item's global ID.")
    item: Node | None = strawberry.field(
        description="The item as it is now; null when the subscriber may not see it "
        "(REMOVED, DELETED)."
    )


@strawberry.type(description="A change to one news item.")
class NewsItemChangeEvent:
    action: ContentAction
    id: strawberry.ID = strawberry.field(description="The news item's global ID.")
    news: News | None = strawberry.field(
        description="The news item as it is now; null when the subscriber may not see it."
    )


@dataclass(frozen=True, slots=True)
class _Change:
    action: ContentAction
    kind: str
    pk: int
    item: Node | None


def action_for(event: LiveEvent, pk: int, visible: bool, viewer: Viewer) -> ContentAction | None:
    """What the subscriber is told of `pk` in `event`, or None: nothing (a change to
    what they cannot see, a removal of what they never could)."""
    action = _ACTIONS.get(event.action)
    if action is None:
        return None
    if visible:
        return action
    if event.action not in _GONE:
        return None
    if viewer.sees_drafts:
        return ContentAction.DELETED if event.action == "merged" else action
    return ContentAction.REMOVED if pk in event.public_ids else None


def _overflow_error() -> GraphQLError:
    return GraphQLError(
        "Подписка отстала от потока изменений и закрыта: подпишитесь снова и перечитайте "
        "данные запросом.",
        extensions={"code": Code.LIMIT_EXCEEDED, "limit": "subscriptionQueue"},
    )


async def changes(
    info: Info, kinds: Collection[str], only: int | None = None
) -> AsyncGenerator[_Change, None]:
    """The changes of `kinds` (of the one item `only`, when given) that the caller may
    know of, until the subscription ends (the listener goes with it)."""
    context = info.context
    viewer = context.viewer
    async with context.runtime.live.listen() as inbox:
        while True:
            event = await inbox.queue.get()
            if inbox.overflowed:
                raise _overflow_error()
            if event.kind not in kinds or event.kind not in NODE_TYPES:
                continue
            pks = [pk for pk in event.ids if only is None or pk == only]
            if not pks:
                continue
            # What was loaded for an earlier event is stale now.
            context.loaders = Loaders(viewer)
            rows = await _load(event, pks, viewer)
            convert = NODE_TYPES[event.kind][1]
            for pk, row in zip(pks, rows, strict=True):
                action = action_for(event, pk, row is not None, viewer)
                if action is not None:
                    item = convert(row) if row is not None else None
                    yield _Change(action, event.kind, pk, item)


# The items of an event as each visibility scope sees them, loaded once per process for
# all its subscribers of that scope (a thousand subscribers: one statement, not a
# thousand). Content visibility depends on the scope alone (visibility.visible_q:
# drafts or not); the rows are read, never changed, by the types made from them.
_loaded: weakref.WeakKeyDictionary[
    LiveEvent, dict[tuple[str, tuple[int, ...]], asyncio.Future[Sequence[Any]]]
] = weakref.WeakKeyDictionary()


async def _load(event: LiveEvent, pks: list[int], viewer: Viewer) -> Sequence[Any]:
    """The rows of `pks` (None where not visible) through the visibility rules of the
    viewer's scope."""
    shared = _loaded.setdefault(event, {})
    key = (viewer.visibility_scope, tuple(pks))
    loading = shared.get(key)
    if loading is None:
        batch = NODE_TYPES[event.kind][0]
        loading = asyncio.ensure_future(batch(viewer, pks))
        shared[key] = loading
    return await asyncio.shield(loading)


_ALL_KINDS = frozenset(kind.value for kind in ContentKind)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Changes to content of these kinds (all when omitted), each with the "
        "item as it is now. Anonymous subscribers hear of published content only; staff "
        "tokens (in connection_init) hear of drafts too."
    )
    async def content_changed(
        self, info: Info, kinds: list[ContentKind] | None = None
    ) -> AsyncGenerator[ContentChangeEvent, None]:
        wanted = _ALL_KINDS if kinds is None else {kind.value for kind in kinds}
        async for change in changes(info, wanted):
            yield _event(change)

    @strawberry.subscription(
        description="Changes to one item of content, by its global ID (a news item, an "
        "agreement, an enterprise, ...)."
    )
    async def item_changed(
        self, info: Info, id: strawberry.ID
    ) -> AsyncGenerator[ContentChangeEvent, None]:
        type_name, pk = parse_global_id(id)
        if type_name not in _ALL_KINDS:
            raise bad_input("id", f"Тип {type_name} не поддерживается в подписке itemChanged.")
        async for change in changes(info, {type_name}, only=pk):
            yield _event(change)

    @strawberry.subscription(description="Changes to one news item, by its global ID.")
    async def news_item_changed(
        self, info: Info, id: strawberry.ID
    ) -> AsyncGenerator[NewsItemChangeEvent, None]:
        pk = parse_typed_id(id, "News")
        async for change in changes(info, {"News"}, only=pk):
            news = change.item if isinstance(change.item, News) else None
            yield NewsItemChangeEvent(
                action=change.action, id=global_id("News", change.pk), news=news
            )


def _event(change: _Change) -> ContentChangeEvent:
    return ContentChangeEvent(
        action=change.action,
        kind=ContentKind(change.kind),
        id=global_id(change.kind, change.pk),
        item=change.item,
    )
