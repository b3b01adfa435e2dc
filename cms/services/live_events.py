"""Live events: content changes carried to the GraphQL subscribers of every process.

A listener on `cms.services.events` turns each committed change into a `LiveEvent`
and hands it to the process's broker. `LocalBroker` delivers it to the listeners of
this process; `RedisBroker` publishes it on a Redis channel that every process on
the same Redis reads, and each delivers what it reads to its own listeners (the
process that made the change included: it hears its own message back, once).

An event says what changed, never what it now holds: each subscriber loads the item
through the visibility rules as the caller it is (graphql_schema/subscriptions.py),
so that nobody is sent what they may not see. The one thing decided here is for
removals, which leave nothing to load: which of the removed items the public could
see until then (`public_ids`), so that anonymous subscribers hear of those only.

Items whose scheduled `published_at` passes change without any write: the server's
scheduler (web/lifecycle.py) asks `went_live` what did and delivers it with
`deliver_here` to this process's listeners only, since every process runs its own
scheduler (through Redis, each subscriber would get it once per process).

While this process does not read the channel (Redis down, or not yet subscribed), the
events made here go straight to its own subscribers; those of the other processes
miss them until Redis is back (logged). The reading side reconnects by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import orjson

from cms.models.base import PublicationState, PublishableModel
from cms.services import events
from cms.services.content_types import CONTENT_TYPES
from cms.services.events import ContentChange
from cms.services.redis_guard import RedisGuard, RedisUnavailableError
from cms.settings import Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger("cms.live")

# The action of an item whose scheduled publication time passed.
WENT_LIVE = "went_live"
# Actions after which the item is gone for everyone who could see it.
REMOVALS = frozenset({"deleted", "purged", "unpublished"})
# Pause before the subscribing side tries Redis again after losing it.
RECONNECT_SECONDS = 1.0


# Compared by identity: one announcement, shared by every subscriber of a process
# (what they load for it can be shared too), is never "equal" to a later one.
@dataclass(frozen=True, slots=True, eq=False, weakref_slot=True)
class LiveEvent:
    kind: str  # the GraphQL type name: "News", "Tag", ...
    ids: tuple[int, ...]
    action: str  # the action of ContentChange, or WENT_LIVE
    # For removals: those of `ids` the public could see until the change.
    public_ids: tuple[int, ...] = ()

    def encode(self) -> bytes:
        return orjson.dumps(
            {"kind": self.kind, "ids": self.ids, "action": self.action, "public": self.public_ids}
        )

    @classmethod
    def decode(cls, raw: bytes) -> LiveEvent:
        data = orjson.loads(raw)
        return cls(
            kind=str(data["kind"]),
            ids=tuple(int(pk) for pk in data["ids"]),
            action=str(data["action"]),
            public_ids=tuple(int(pk) for pk in data.get("public", ())),
        )


@dataclass(eq=False)
class Inbox:
    """One listener's queue. When a slow reader lets it fill, further events are
    dropped for it and `overflowed` is set: the reader ends its subscription with an
    error rather than silently miss changes."""

    queue: asyncio.Queue[LiveEvent] = field(default_factory=asyncio.Queue)
    overflowed: bool = False

    def offer(self, event: LiveEvent) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True


class LocalBroker:
    """Delivers to the listeners of this process."""

    def __init__(self, queue_size: int = 100) -> None:
        self.queue_size = queue_size
        self._inboxes: set[Inbox] = set()

    @property
    def listener_count(self) -> int:
        return len(self._inboxes)

    @contextlib.asynccontextmanager
    async def listen(self) -> AsyncIterator[Inbox]:
        """A queue of the events from now on, until the block ends."""
        inbox = Inbox(asyncio.Queue(self.queue_size))
        self._inboxes.add(inbox)
        try:
            yield inbox
        finally:
            self._inboxes.discard(inbox)

    def deliver_here(self, event: LiveEvent) -> None:
        for inbox in list(self._inboxes):
            inbox.offer(event)

    async def publish(self, event: LiveEvent) -> None:
        """To every process's listeners (here: this one's)."""
        self.deliver_here(event)

    async def run(self) -> None:
        """The background work of the broker while the server runs: none here."""

    async def close(self) -> None:
        self._inboxes.clear()


class RedisBroker(LocalBroker):
    """Every process on one Redis: a message on one channel per deployment prefix."""

    def __init__(self, redis: Redis, url: str, prefix: str, queue_size: int = 100) -> None:
        super().__init__(queue_size)
        self._redis = redis
        self._url = url
        self.channel = f"{prefix}:live"
        self._guard = RedisGuard(
            "live events to other processes", "are delivered to this process's subscribers only"
        )
        self.connected = asyncio.Event()

    async def publish(self, event: LiveEvent) -> None:
        payload = event.encode()
        delivered = not self.connected.is_set()
        if delivered:
            # This process would not hear it back: its subscribers get it now. (Should
            # the channel be read again meanwhile, they could get it twice, never none.)
            self.deliver_here(event)
        try:
            await self._guard.run(lambda: self._redis.publish(self.channel, payload))
        except RedisUnavailableError:
            if not delivered:
                self.deliver_here(event)

    async def run(self) -> None:
        """Reads the channel until cancelled; reconnects after a failure. A client of
        its own: a subscribed connection is held for good and answers nothing else."""
        from redis.asyncio import Redis
        from redis.exceptions import RedisError

        reader = Redis.from_url(self._url, socket_connect_timeout=2, health_check_interval=30)
        lost_at: float | None = None
        try:
            while True:
                try:
                    async with reader.pubsub() as pubsub:
                        await pubsub.subscribe(self.channel)
                        async for message in pubsub.listen():
                            if message.get("type") == "subscribe":
                                # Confirmed: what is published from now on comes back.
                                self.connected.set()
                                if lost_at is not None:
                                    logger.warning(
                                        "live events: Redis channel %s read again after %.0f s",
                                        self.channel,
                                        asyncio.get_running_loop().time() - lost_at,
                                    )
                                    lost_at = None
                            self._received(message)
                except (RedisError, OSError) as error:
                    self.connected.clear()
                    if lost_at is None:
                        lost_at = asyncio.get_running_loop().time()
                        logger.warning(
                            "live events: Redis channel %s lost (%s: %s); other processes' "
                            "changes do not reach this process's subscribers until it is back",
                            self.channel,
                            type(error).__name__,
                            error,
                        )
                    await asyncio.sleep(RECONNECT_SECONDS)
        finally:
            self.connected.clear()
            await reader.aclose()

    def _received(self, message: dict[str, object]) -> None:
        if message.get("type") != "message":
            return
        data = message.get("data")
        try:
            event = LiveEvent.decode(data if isinstance(data, bytes) else str(data).encode())
        except (ValueError, KeyError, TypeError):
            logger.warning("live events: unreadable message on %s ignored", self.channel)
            return
        self.deliver_here(event)


def create_broker(settings: Settings, redis: Redis | None) -> LocalBroker:
    if redis is not None and settings.redis_url:
        return RedisBroker(
            redis, settings.redis_url, settings.redis_prefix, settings.subscription_queue
        )
    return LocalBroker(settings.subscription_queue)


# ---------------------------------------------------------------- from content changes


async def public_before(change: ContentChange) -> tuple[int, ...]:
    """Of the items a removal took away, those the public could see until then (one
    statement). Purged items were in the trash already; an unpublished item loses its
    publication time, so it is counted as public (a scheduled one was not yet: its
    id alone is sent to the public, never its content)."""
    kind = CONTENT_TYPES.get(change.content_type)
    if kind is None or change.action == "purged":
        return ()
    if change.action == "unpublished" or not issubclass(kind.model, PublishableModel):
        return change.object_ids
    rows = await kind.model.filter(
        id__in=change.object_ids,
        status=PublicationState.PUBLISHED,
        published_at__lte=datetime.now(UTC),
    ).values_list("id", flat=True)
    return tuple(sorted(int(pk) for pk in rows))  # type: ignore[call-overload]


async def went_live(since: datetime, until: datetime) -> list[LiveEvent]:
    """Items whose publication time, set in advance, fell in (since, until]: they have
    just become public without any write. An item published "now" is announced by its
    publication and left out here (its last change is not before its publication time)."""
    found: list[LiveEvent] = []
    for kind in CONTENT_TYPES.values():
        if not kind.publishable:
            continue
        rows = await kind.model.filter(
            status=PublicationState.PUBLISHED,
            deleted_at__isnull=True,
            published_at__gt=since,
            published_at__lte=until,
        ).values_list("id", "published_at", "updated_at")
        ids = tuple(sorted(int(pk) for pk, published, updated in rows if updated < published))
        if ids:
            found.append(LiveEvent(kind.name, ids, WENT_LIVE))
    return found


# Every broker of this process hears the changes through one listener held here
# (servers in tests make many apps, each with its own broker).
_brokers: list[LocalBroker] = []


def attach(broker: LocalBroker) -> None:
    """Feeds `broker` with the content changes of this process until `detach`."""
    if broker not in _brokers:
        _brokers.append(broker)


def detach(broker: LocalBroker) -> None:
    if broker in _brokers:
        _brokers.remove(broker)


async def _on_content_changed(change: ContentChange) -> None:
    if not _brokers:
        return
    public = await public_before(change) if change.action in REMOVALS else ()
    event = LiveEvent(change.content_type, change.object_ids, change.action, public)
    for broker in list(_brokers):
        try:
            await broker.publish(event)
        except Exception:
            logger.exception("live event %r not delivered", event)


events.subscribe(_on_content_changed)
