"""Content events: services announce what changed, after it is committed.

Listeners (the response cache, webhooks, search indexing) subscribe at start-up;
a failing listener is logged and never undoes or fails the change itself.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass

logger = logging.getLogger("cms.events")


@dataclass(frozen=True, slots=True)
class ContentChange:
    content_type: str  # the GraphQL type name: "News", "Tag", "Agreement", ...
    object_ids: tuple[int, ...]
    action: str  # created, updated, deleted, restored, published, unpublished, merged
    # Whether the public could see what changed before or after it (or may at a
    # scheduled moment): False for a draft edit, which no public answer shows, so
    # caches keep every public answer (cms.services.surrogate_keys.touched).
    public: bool = True


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


# Announcements held back while an enclosing transaction is open (see after_commit).
_held: ContextVar[list[ContentChange] | None] = ContextVar("cms_held_changes", default=None)


@contextlib.asynccontextmanager
async def after_commit() -> AsyncIterator[None]:
    """Holds the announcements made inside until the block ends without an error; wrap
    it around a transaction, so that listeners (caches, webhooks) never hear of a change
    before it is committed, nor of one that was rolled back."""
    if _held.get() is not None:  # an enclosing block announces
        yield
        return
    held: list[ContentChange] = []
    token = _held.set(held)
    try:
        yield
    finally:
        _held.reset(token)
    for change in held:
        await content_changed(change)


async def content_changed(change: ContentChange) -> None:
    held = _held.get()
    if held is not None:
        held.append(change)
        return
    for listener in list(_listeners):
        try:
            await listener(change)
        except Exception:
            logger.exception("content listener %r failed on %r", listener, change)
