"""The response cache of public reads, and the store of persisted (APQ) documents.

Entries are the serialised bytes of a successful GraphQL response for the "public"
visibility scope (anonymous callers and read-only tokens see the same data), keyed
by `cache_key()`. Invalidation is exact and instant by a generation counter: every
entry records the generation it was computed under, and any content change bumps
the counter (a listener on `cms.services.events`), so every older entry stops
matching at once. In Redis the counter is one key that every process reads in the
same round trip as the entry (MGET), so a change made through one process is seen
by the next read through any other one, without waiting for a message.

Entries never outlive the next scheduled publication: `Schedule` knows the earliest
future `published_at` of published content and entries expire at that moment.

No Starlette or Strawberry here: the HTTP side is the view and the fast lane.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import orjson
from redis.asyncio import Redis
from tortoise.connection import get_connection

from cms.db import placeholders
from cms.models.base import PublicationState, PublishableModel
from cms.services import events
from cms.services.events import ContentChange
from cms.services.redis_guard import RedisGuard, RedisUnavailableError
from cms.settings import Settings

logger = logging.getLogger("cms.cache")

T = TypeVar("T")

PUBLIC_SCOPE = "public"
# The generation while Redis does not answer: no entry is stored under it, and no
# entry stored under a real one (never negative) matches it.
UNKNOWN_GENERATION = -1


@dataclass(frozen=True, slots=True)
class CachedResponse:
    body: bytes
    etag: str  # strong: a hash of `body`, quoted
    surrogate_keys: str  # space-separated, e.g. "News:12 Tag:3 news-list"
    expires_at: float  # epoch seconds; never after the next scheduled publication
    # The next scheduled publication when the entry was made (epoch seconds), or 0:
    # HTTP max-age is cut short by it too.
    go_live: float
    generation: int
    # When what the answer holds last changed (epoch seconds), for Last-Modified; 0: unknown.
    last_modified: float = 0.0


def canonical_variables(variables: Mapping[str, Any] | None) -> bytes:
    """Variables as sorted JSON: {"b":1,"a":2} and {"a":2,"b":1} share an entry."""
    if not variables:
        return b"{}"
    return orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)


def cache_key(
    doc_hash: str, variables: bytes, operation_name: str | None, scope: str = PUBLIC_SCOPE
) -> str:
    material = b"\x00".join(
        (doc_hash.encode(), variables, (operation_name or "").encode(), scope.encode())
    )
    return hashlib.sha256(material).hexdigest()


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:40] + '"'


# ---------------------------------------------------------------- stores


class Store(Protocol):
    """Where entries, the generation and APQ documents live."""

    async def lookup(self, key: str) -> tuple[CachedResponse | None, int]:
        """The entry under `key` if it is current and fresh, and the current generation
        (read before the response is computed: an entry stored under it is void as soon
        as anything changes meanwhile)."""

    def lookup_nowait(self, key: str) -> CachedResponse | None:
        """The same without I/O when the store can answer in process, else None."""

    async def put(self, key: str, entry: CachedResponse) -> None: ...

    async def bump(self) -> int:
        """A new generation: every entry stored before is void."""

    async def generation(self) -> int: ...

    async def get_document(self, doc_hash: str) -> str | None: ...

    async def put_document(self, doc_hash: str, query: str) -> None: ...

    async def clear(self) -> None: ...


class MemoryStore:
    """One process: an LRU bounded by entries and bytes; APQ documents in their own
    LRU so that a flood of responses never evicts the documents clients rely on."""

    def __init__(self, max_entries: int, max_bytes: int, max_documents: int = 5000) -> None:
        self._entries: OrderedDict[str, CachedResponse] = OrderedDict()
        self._bytes = 0
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._generation = 0
        self._documents: OrderedDict[str, str] = OrderedDict()
        self._max_documents = max_documents

    def __len__(self) -> int:
        return len(self._entries)

    def entry_keys(self) -> list[str]:
        return list(self._entries)

    def lookup_nowait(self, key: str) -> CachedResponse | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.generation != self._generation or entry.expires_at <= time.time():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry

    async def lookup(self, key: str) -> tuple[CachedResponse | None, int]:
        return self.lookup_nowait(key), self._generation

    async def put(self, key: str, entry: CachedResponse) -> None:
        size = len(entry.body)
        if entry.generation != self._generation or size > self._max_bytes:
            return
        self._drop(key)
        self._entries[key] = entry
        self._bytes += size
        while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= len(evicted.body)

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= len(entry.body)

    async def bump(self) -> int:
        self._generation += 1
        # Every entry is void now: release the memory at once.
        self._entries.clear()
        self._bytes = 0
        return self._generation

    async def generation(self) -> int:
        return self._generation

    async def get_document(self, doc_hash: str) -> str | None:
        query = self._documents.get(doc_hash)
        if query is not None:
            self._documents.move_to_end(doc_hash)
        return query

    async def put_document(self, doc_hash: str, query: str) -> None:
        self._documents[doc_hash] = query
        self._documents.move_to_end(doc_hash)
        while len(self._documents) > self._max_documents:
            self._documents.popitem(last=False)

    async def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0
        self._documents.clear()


class RedisStore:
    """Shared by every process on one Redis. An entry is one string: a header line
    (generation, expiry, go-live, etag, surrogate keys) and the body; Redis expires it
    with the entry (PXAT), and LRU eviction is Redis's (maxmemory-policy).

    While Redis fails (RedisGuard), the cache is bypassed: lookups miss under
    UNKNOWN_GENERATION, nothing is stored, APQ registrations miss (clients send the
    text again). A change made meanwhile could not void the entries: the first call
    that reaches Redis again does so (bumps the generation) before anything else."""

    def __init__(self, redis: Redis, prefix: str, generation_key: str) -> None:
        self._redis = redis
        self._generation_key = generation_key
        self._entry_prefix = f"{prefix}:entry:"
        self._document_prefix = f"{prefix}:apq:"
        self._prefix = prefix
        self._guard = RedisGuard(
            "the response cache and APQ registrations", "are bypassed (answers uncached)"
        )
        self._missed_change = False

    async def _run(self, call: Callable[[], Awaitable[T]]) -> T:
        """`call` through the guard; RedisUnavailableError when Redis does not answer."""
        if self._missed_change:
            await self._guard.run(lambda: self._redis.incr(self._generation_key))
            self._missed_change = False
        return await self._guard.run(call)

    def lookup_nowait(self, key: str) -> CachedResponse | None:
        return None

    async def lookup(self, key: str) -> tuple[CachedResponse | None, int]:
        try:
            raw_generation, raw = await self._run(
                lambda: self._redis.mget(self._generation_key, self._entry_prefix + key)
            )
        except RedisUnavailableError:
            return None, UNKNOWN_GENERATION
        generation = int(raw_generation or 0)
        if raw is None:
            return None, generation
        entry = self._decode(raw if isinstance(raw, bytes) else raw.encode())
        if entry is None or entry.generation != generation or entry.expires_at <= time.time():
            return None, generation
        return entry, generation

    async def put(self, key: str, entry: CachedResponse) -> None:
        if entry.generation == UNKNOWN_GENERATION:
            return
        header = b"%d %r %r %r %s %s\n" % (
            entry.generation,
            entry.expires_at,
            entry.go_live,
            entry.last_modified,
            entry.etag.encode(),
            entry.surrogate_keys.replace(" ", ",").encode() or b"-",
        )
        with contextlib.suppress(RedisUnavailableError):
            await self._run(
                lambda: self._redis.set(
                    self._entry_prefix + key, header + entry.body, pxat=int(entry.expires_at * 1000)
                )
            )

    @staticmethod
    def _decode(raw: bytes) -> CachedResponse | None:
        header, _, body = raw.partition(b"\n")
        try:
            generation, expires_at, go_live, last_modified, etag, keys = header.split(b" ")
            return CachedResponse(
                body=body,
                etag=etag.decode(),
                surrogate_keys="" if keys == b"-" else keys.decode().replace(",", " "),
                expires_at=float(expires_at),
                go_live=float(go_live),
                generation=int(generation),
                last_modified=float(last_modified),
            )
        except ValueError:
            logger.warning("unreadable response cache entry ignored")
            return None

    async def bump(self) -> int:
        try:
            return int(await self._run(lambda: self._redis.incr(self._generation_key)))
        except RedisUnavailableError:
            self._missed_change = True
            return UNKNOWN_GENERATION

    async def generation(self) -> int:
        try:
            return int(await self._run(lambda: self._redis.get(self._generation_key)) or 0)
        except RedisUnavailableError:
            return UNKNOWN_GENERATION

    async def get_document(self, doc_hash: str) -> str | None:
        try:
            raw = await self._run(lambda: self._redis.get(self._document_prefix + doc_hash))
        except RedisUnavailableError:
            return None
        return raw.decode() if isinstance(raw, bytes) else raw

    async def put_document(self, doc_hash: str, query: str) -> None:
        # Registrations are a cache too: a month without use and a client re-registers.
        with contextlib.suppress(RedisUnavailableError):
            await self._run(
                lambda: self._redis.set(self._document_prefix + doc_hash, query, ex=30 * 24 * 3600)
            )

    async def clear(self) -> None:
        keys = [key async for key in self._redis.scan_iter(match=f"{self._prefix}:*")]
        if keys:
            await self._redis.delete(*keys)


# ---------------------------------------------------------------- scheduled publication


def _publishable_models() -> list[type[PublishableModel]]:
    from cms import models

    return [
        model
        for model in vars(models).values()
        if isinstance(model, type)
        and issubclass(model, PublishableModel)
        and not model._meta.abstract
    ]


async def next_go_live(after: datetime | None = None) -> datetime | None:
    """The earliest future `published_at` (later than `after`, now by default) of
    published, untrashed content: until then, what the public sees cannot change
    without a content event. One statement over every publishable table, each part
    served by the (status, deleted_at, published_at) index that visibility filters use."""
    models = _publishable_models()
    marks = iter(placeholders(2 * len(models)))
    parts = [
        f'SELECT MIN(published_at) AS moment FROM "{model._meta.db_table}" '
        f"WHERE status = {next(marks)} AND deleted_at IS NULL AND published_at > {next(marks)}"
        for model in models
    ]
    field = models[0]._meta.fields_map["published_at"]
    # The class, not a row: nothing is set on it.
    now_value = field.to_db_value(after or datetime.now(UTC), models[0])
    values: list[Any] = [PublicationState.PUBLISHED.value, now_value] * len(models)
    sql = "SELECT MIN(moment) AS moment FROM (" + " UNION ALL ".join(parts) + ") AS upcoming"
    rows = await get_connection("default").execute_query_dict(sql, values)
    found = rows[0]["moment"] if rows else None
    if found is None:
        return None
    if isinstance(found, str):  # SQLite keeps datetimes as text
        found = datetime.fromisoformat(found)
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


class Schedule:
    """The next scheduled publication as seen at a generation: re-read when the
    generation moves (a change anywhere, this process or another) or when it passes."""

    def __init__(self) -> None:
        self._generation: int | None = None
        self._go_live = 0.0  # epoch seconds; 0: nothing scheduled

    async def go_live(self, generation: int) -> float:
        # Without Redis no change is seen: read every time rather than trust an old one.
        if (
            generation == UNKNOWN_GENERATION
            or self._generation != generation
            or (self._go_live and self._go_live <= time.time())
        ):
            moment = await next_go_live()
            self._go_live = moment.timestamp() if moment is not None else 0.0
            self._generation = generation
        return self._go_live


# ---------------------------------------------------------------- the cache


class ResponseCache:
    """What the HTTP layer talks to. `enabled` is CMS_RESPONSE_CACHE: when off,
    entries are neither read nor written, but APQ documents and the schedule (for
    HTTP max-age) still work."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.enabled = settings.response_cache
        if self.enabled and isinstance(store, MemoryStore) and settings.workers > 1:
            # Sibling workers would never hear of each other's changes and serve stale
            # answers: several processes share a cache only through Redis.
            logger.warning(
                "CMS_WORKERS=%d without CMS_REDIS_URL: the response cache is off",
                settings.workers,
            )
            self.enabled = False
        self.ttl = settings.response_cache_ttl
        self.schedule = Schedule()
        _live_caches.add(self)

    @classmethod
    def create(cls, settings: Settings, redis: Redis | None) -> ResponseCache:
        if redis is not None:
            generation = events.shared_generation_key(settings.redis_prefix)
            return cls(RedisStore(redis, f"{settings.redis_prefix}:rc", generation), settings)
        return cls(
            MemoryStore(settings.response_cache_max_entries, settings.response_cache_max_bytes),
            settings,
        )

    async def lookup(self, key: str) -> tuple[CachedResponse | None, int]:
        if not self.enabled:
            return None, await self.store.generation()
        return await self.store.lookup(key)

    async def entry_for(
        self, body: bytes, surrogate_keys: str, generation: int, last_modified: float = 0.0
    ) -> CachedResponse:
        """A cacheable entry for bytes computed under `generation`."""
        go_live = await self.schedule.go_live(generation)
        expires_at = time.time() + self.ttl
        if go_live:
            expires_at = min(expires_at, go_live)
        return CachedResponse(
            body=body,
            etag=strong_etag(body),
            surrogate_keys=surrogate_keys,
            expires_at=expires_at,
            go_live=go_live,
            generation=generation,
            last_modified=last_modified,
        )

    async def put(self, key: str, entry: CachedResponse) -> None:
        if self.enabled and entry.expires_at > time.time():
            await self.store.put(key, entry)

    async def invalidate(self) -> None:
        """Voids every entry (any content change may show in any answer)."""
        await self.store.bump()


# Every cache of this process hears every content change through one listener held
# here; weak references, so that an app that is gone (tests make many) is dropped.
_live_caches: weakref.WeakSet[ResponseCache] = weakref.WeakSet()


async def _on_content_changed(change: ContentChange) -> None:
    for cache in list(_live_caches):
        try:
            await cache.invalidate()
        except Exception:
            # Redis down: the change is committed; entries still expire by their TTL.
            logger.exception("response cache invalidation failed for %r", change)


events.subscribe(_on_content_changed)
