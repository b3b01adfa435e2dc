"""Content events: services announce what changed, after it is committed.

Listeners (the response cache, webhooks, search indexing) subscribe at start-up;
a failing listener is logged and never undoes or fails the change itself.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

logger = logging.getLogger("cms.events")


@dataclass(frozen=True, slots=True)
class ContentChange:
    content_type: str  # the GraphQL type name: "News", "Tag", "Agreement", ...
    object_ids: tuple[int, ...]
    action: str  # created, updated, deleted, restored, published, unpublished, merged
    # When a scheduled item goes live: caches must not outlive this moment.
    visible_from: datetime | None = None


def shared_generation_key(redis_prefix: str) -> str:
    """The Redis key counting content changes for every process on one Redis: whatever
    a process derived from content (the response cache) is void once it moves. A
    command that changed content outside any server moves it too."""
    return f"{redis_prefix}:rc:generation"


Listener = Callable[[ContentChange], Awaitable[None]]
_listeners: list[Listener] = []


def subscribe(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def unsubscribe(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


async def content_changed(change: ContentChange) -> None:
    for listener in list(_listeners):
        try:
            await listener(change)
        except Exception:
            logger.exception("content listener %r failed on %r", listener, change)
