"""The response cache of public reads, and the store of persisted (APQ) documents.

Entries are the serialised bytes of a successful GraphQL response for the "public"
visibility scope (anonymous callers and read-only tokens see the same data), keyed
by `cache_key()`. Invalidation is by surrogate key (cms/services/surrogate_keys.py):
an entry depends on the keys of what it holds (`News:12`, `news-list`, ...), and a
content change voids exactly the entries that share a key with it (a listener on
`cms.services.events`), instantly, in process and through Redis; a draft edit voids
nothing. A clock counts changes: each change moves it and marks its keys with the
new value; an entry remembers the clock read BEFORE its answer was computed (its
`Stamp`) and is stored only when none of its keys moved since, so an answer made
from data read before a change never outlives that change. The generation (moved
by commands that change content without a server, and after a change Redis missed)
voids everything at once.

- In process, entries are dropped when their keys move (an index key -> entries):
  a hit is a dict access, as before.
- In Redis, a hit is one round trip: one MGET of the generation, the clock, the
  entry and the versions of the keys it depends on (which the process remembers
  from the entry's last fill or hit; the first hit of an entry in a process reads
  them in a second round trip). A version key that is gone (evicted, expired) voids
  the entries that depend on it. Stores and changes are scripts, atomic with
  respect to each other.

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
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

import orjson
from tortoise.connection import get_connection

from cms.db import placeholders
from cms.models.base import PublicationState, PublishableModel
from cms.services import events
from cms.services.events import ContentChange
from cms.services.redis_guard import RedisGuard, RedisUnavailableError
from cms.services.surrogate_keys import ANY_CONTENT, dependencies, touched
from cms.settings import Settings
from web.cdn_purge import CdnPurge

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger("cms.cache")

T = TypeVar("T")

PUBLIC_SCOPE = "public"


class Stamp(NamedTuple):
    """What an answer is computed under, read before it is computed."""

    generation: int  # every entry of another generation is void
    clock: int  # the change clock: entries are void once one of their keys moved past it


# While Redis does not answer: no entry is stored under it, and no entry stored
# under a real generation (never negative) matches it.
UNKNOWN_STAMP = Stamp(-1, 0)


@dataclass(frozen=True, slots=True)
class CachedResponse:
    body: bytes
    etag: str  # strong: a hash of `body`, quoted
    surrogate_keys: str  # space-separated, e.g. "News:12 Tag:3 news-list"
    expires_at: float  # epoch seconds; never after the next scheduled publication
    # The next scheduled publication when the entry was made (epoch seconds), or 0:
    # HTTP max-age is cut short by it too.
    go_live: float
    stamp: Stamp
    # When what the answer holds last changed (epoch seconds), for Last-Modified; 0: unknown.
    last_modified: float = 0.0
    # The keys a change must touch to void it (surrogate_keys.dependencies).
    dependencies: tuple[str, ...] = (ANY_CONTENT,)


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
    """Where entries, the generation, the change clock and APQ documents live."""

    async def lookup(self, key: str) -> tuple[CachedResponse | None, Stamp]:
        """The entry under `key` if it is current and fresh, and the current stamp
        (read before the response is computed: an entry stored under it is void as soon
        as one of its keys changes meanwhile)."""

    def lookup_nowait(self, key: str) -> CachedResponse | None:
        """The same without I/O when the store can answer in process, else None."""

    async def put(self, key: str, entry: CachedResponse) -> None:
        """Stores the entry unless one of its dependencies moved past its stamp."""

    async def touch(self, keys: Collection[str]) -> None:
        """A change: every entry depending on one of `keys` is void."""

    async def bump(self) -> None:
        """A new generation: every entry stored before is void."""

    async def stamp(self) -> Stamp: ...

    async def get_document(self, doc_hash: str) -> str | None: ...

    async def put_document(self, doc_hash: str, query: str) -> None: ...

    async def clear(self) -> None: ...


class MemoryStore:
    """One process: an LRU bounded by entries and bytes; APQ documents in their own
    LRU so that a flood of responses never evicts the documents clients rely on.
    Entries are dropped as soon as one of their keys changes, so a lookup checks
    nothing but the expiry."""

    # Keys whose last change is remembered (for answers computed meanwhile); past it
    # the memory is cleared and the generation moved, which is as safe.
    MAX_MOVED = 100_000

    def __init__(self, max_entries: int, max_bytes: int, max_documents: int = 5000) -> None:
        self._entries: OrderedDict[str, CachedResponse] = OrderedDict()
        self._bytes = 0
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._generation = 0
        self._clock = 0
        self._stamp = Stamp(0, 0)  # (generation, clock), made once per change, not per lookup
        self._moved: dict[str, int] = {}  # key -> the clock of its last change
        self._holders: dict[str, set[str]] = {}  # key -> the entries depending on it
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
        if entry.expires_at <= time.time():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry

    async def lookup(self, key: str) -> tuple[CachedResponse | None, Stamp]:
        return self.lookup_nowait(key), self._stamp

    async def put(self, key: str, entry: CachedResponse) -> None:
        size = len(entry.body)
        stamp = entry.stamp
        if stamp.generation != self._generation or size > self._max_bytes:
            return
        moved = self._moved
        if any(moved.get(name, -1) > stamp.clock for name in entry.dependencies):
            return  # computed from data read before a change to what it holds
        self._drop(key)
        self._entries[key] = entry
        self._bytes += size
        for name in entry.dependencies:
            self._holders.setdefault(name, set()).add(key)
        while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        self._bytes -= len(entry.body)
        for name in entry.dependencies:
            holders = self._holders.get(name)
            if holders is not None:
                holders.discard(key)
                if not holders:
                    del self._holders[name]

    async def touch(self, keys: Collection[str]) -> None:
        self._clock += 1
        self._stamp = Stamp(self._generation, self._clock)
        for name in keys:
            self._moved[name] = self._clock
            for key in list(self._holders.pop(name, ())):
                self._drop(key)
        if len(self._moved) > self.MAX_MOVED:
            self._moved.clear()
            await self.bump()

    async def bump(self) -> None:
        self._generation += 1
        self._stamp = Stamp(self._generation, self._clock)
        # Every entry is void now: release the memory at once.
        self._entries.clear()
        self._holders.clear()
        self._bytes = 0

    async def stamp(self) -> Stamp:
        return self._stamp

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
        self._holders.clear()
        self._moved.clear()
        self._bytes = 0
        self._documents.clear()


# Stores an entry, its header line "generation clock expires go_live last_modified
# etag keys dependencies" before the body, unless the generation moved or one of its
# keys moved past its stamp (atomic with _TOUCH: a change either voids the stored
# entry or is seen here); a version key it needs is made, or kept, for as long as an
# entry can live (a lookup counts a missing version as moved).
_PUT = """
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then return 0 end
local stamp = tonumber(ARGV[2])
for i = 7, #ARGV do
  local name = ARGV[5] .. ARGV[i]
  local version = redis.call('GET', name)
  if version and tonumber(version) > stamp then return 0 end
  if version then
    redis.call('PEXPIRE', name, ARGV[6])
  else
    redis.call('SET', name, '0', 'PX', ARGV[6])
  end
end
redis.call('SET', KEYS[2], ARGV[3], 'PXAT', ARGV[4])
return 1
"""

# A change: the clock moves, and its keys are marked with the new value. The clock
# is Redis's time in microseconds (or one more than the last value, if time stood
# still): a clock key that is gone (evicted, flushed) starts again above every stamp.
_TOUCH = """
local now = redis.call('TIME')
local clock = tonumber(redis.call('GET', KEYS[1]) or '0') + 1
local floor = tonumber(now[1]) * 1000000 + tonumber(now[2])
if clock < floor then clock = floor end
clock = string.format('%d', clock)
redis.call('SET', KEYS[1], clock)
for i = 3, #ARGV do redis.call('SET', ARGV[1] .. ARGV[i], clock, 'PX', ARGV[2]) end
return clock
"""


class RedisStore:
    """Shared by every process on one Redis. An entry is one string: a header line
    (stamp, expiry, go-live, etag, surrogate keys, dependencies) and the body; Redis
    expires it with the entry (PXAT), and LRU eviction is Redis's (maxmemory-policy).
    Each key has a version (`<prefix>:key:<key>`: the clock of its last change), kept
    for as long as an entry depending on it can live. A hit is one MGET: the
    generation, the clock, the entry and the versions of the keys the process
    believes the entry depends on (remembered per entry key); when the entry says
    otherwise, its own keys' versions are read in a second round trip.

    While Redis fails (RedisGuard), the cache is bypassed: lookups miss under
    UNKNOWN_STAMP, nothing is stored, APQ registrations miss (clients send the
    text again). A change made meanwhile could not void the entries: the first call
    that reaches Redis again does so (bumps the generation) before anything else."""

    def __init__(self, redis: Redis, prefix: str, generation_key: str, ttl: int = 3600) -> None:
        self._redis = redis
        self._generation_key = generation_key
        self._clock_key = f"{prefix}:clock"
        self._version_prefix = f"{prefix}:key:"
        self._entry_prefix = f"{prefix}:entry:"
        self._document_prefix = f"{prefix}:apq:"
        self._prefix = prefix
        # A version outlives every entry stored before it moved (entries live `ttl`).
        self._version_ms = (ttl + 60) * 1000
        # Entry key -> the keys it was last seen to depend on and the Redis keys a hit
        # reads (the generation, the clock, the entry, those keys' versions). Bounded:
        # cleared when full (it refills with hits).
        self._reads: dict[str, tuple[tuple[str, ...], list[str]]] = {}
        self._put = redis.register_script(_PUT)
        self._touch = redis.register_script(_TOUCH)
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

    async def lookup(self, key: str) -> tuple[CachedResponse | None, Stamp]:
        believed, names = self._reads.get(key) or self._remember(key, ())
        try:
            raw_generation, raw_clock, raw, *versions = await self._run(
                lambda: self._redis.mget(names)
            )
        except RedisUnavailableError:
            return None, UNKNOWN_STAMP
        stamp = Stamp(int(raw_generation or 0), int(raw_clock or 0))
        if raw is None:
            return None, stamp
        entry = self._decode(raw if isinstance(raw, bytes) else raw.encode())
        if (
            entry is None
            or entry.stamp.generation != stamp.generation
            or entry.expires_at <= time.time()
        ):
            return None, stamp
        if entry.dependencies != believed:
            # First seen here, or refilled with other keys: their versions now (later
            # than the entry was read: a change meanwhile voids it, as it should).
            self._remember(key, entry.dependencies)
            try:
                versions = await self._run(
                    lambda: self._redis.mget(
                        [self._version_prefix + name for name in entry.dependencies]
                    )
                )
            except RedisUnavailableError:
                return None, UNKNOWN_STAMP
        clock = entry.stamp.clock
        if any(version is None or int(version) > clock for version in versions):
            return None, stamp  # a key moved since (or its version is gone)
        return entry, stamp

    def _remember(
        self, key: str, dependencies: tuple[str, ...]
    ) -> tuple[tuple[str, ...], list[str]]:
        if len(self._reads) >= 10_000:
            self._reads.clear()
        names = [
            self._generation_key,
            self._clock_key,
            self._entry_prefix + key,
            *(self._version_prefix + name for name in dependencies),
        ]
        self._reads[key] = (dependencies, names)
        return dependencies, names

    async def put(self, key: str, entry: CachedResponse) -> None:
        stamp = entry.stamp
        if stamp.generation == UNKNOWN_STAMP.generation:
            return
        header = b"%d %d %r %r %r %s %s %s\n" % (
            stamp.generation,
            stamp.clock,
            entry.expires_at,
            entry.go_live,
            entry.last_modified,
            entry.etag.encode(),
            entry.surrogate_keys.replace(" ", ",").encode() or b"-",
            ",".join(entry.dependencies).encode(),
        )
        args: list[bytes | str | int | float] = [
            stamp.generation,
            stamp.clock,
            header + entry.body,
            int(entry.expires_at * 1000),
            self._version_prefix,
            self._version_ms,
            *entry.dependencies,
        ]
        with contextlib.suppress(RedisUnavailableError):
            await self._run(
                lambda: self._put(keys=[self._generation_key, self._entry_prefix + key], args=args)
            )
            self._remember(key, entry.dependencies)

    @staticmethod
    def _decode(raw: bytes) -> CachedResponse | None:
        header, _, body = raw.partition(b"\n")
        try:
            generation, clock, expires_at, go_live, last_modified, etag, keys, dependencies = (
                header.split(b" ")
            )
            return CachedResponse(
                body=body,
                etag=etag.decode(),
                surrogate_keys="" if keys == b"-" else keys.decode().replace(",", " "),
                expires_at=float(expires_at),
                go_live=float(go_live),
                stamp=Stamp(int(generation), int(clock)),
                last_modified=float(last_modified),
                dependencies=tuple(dependencies.decode().split(",")),
            )
        except ValueError:
            logger.warning("unreadable response cache entry ignored")
            return None

    async def touch(self, keys: Collection[str]) -> None:
        args: list[bytes | str | int | float] = [self._version_prefix, self._version_ms, *keys]
        try:
            await self._run(lambda: self._touch(keys=[self._clock_key], args=args))
        except RedisUnavailableError:
            self._missed_change = True

    async def bump(self) -> None:
        try:
            await self._run(lambda: self._redis.incr(self._generation_key))
        except RedisUnavailableError:
            self._missed_change = True

    async def stamp(self) -> Stamp:
        try:
            generation, clock = await self._run(
                lambda: self._redis.mget(self._generation_key, self._clock_key)
            )
        except RedisUnavailableError:
            return UNKNOWN_STAMP
        return Stamp(int(generation or 0), int(clock or 0))

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
    """The next scheduled publication as seen at a stamp: re-read when the stamp moves
    (a change the public may see, in this process or another: a publication, an
    unpublication, a new moment) or when the moment passes."""

    def __init__(self) -> None:
        self._stamp: Stamp | None = None
        self._go_live = 0.0  # epoch seconds; 0: nothing scheduled

    async def go_live(self, stamp: Stamp) -> float:
        # Without Redis no change is seen: read every time rather than trust an old one.
        if (
            stamp == UNKNOWN_STAMP
            or self._stamp != stamp
            or (self._go_live and self._go_live <= time.time())
        ):
            moment = await next_go_live()
            self._go_live = moment.timestamp() if moment is not None else 0.0
            self._stamp = stamp
        return self._go_live


# ---------------------------------------------------------------- the cache


class ResponseCache:
    """What the HTTP layer talks to. `enabled` is CMS_RESPONSE_CACHE: when off,
    entries are neither read nor written, but APQ documents and the schedule (for
    HTTP max-age) still work, and so does the CDN purge hook."""

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
        self.cdn = CdnPurge.create(settings)
        _live_caches.add(self)

    @classmethod
    def create(cls, settings: Settings, redis: Redis | None) -> ResponseCache:
        if redis is not None:
            generation = events.shared_generation_key(settings.redis_prefix)
            store = RedisStore(
                redis, f"{settings.redis_prefix}:rc", generation, settings.response_cache_ttl
            )
            return cls(store, settings)
        return cls(
            MemoryStore(settings.response_cache_max_entries, settings.response_cache_max_bytes),
            settings,
        )

    async def lookup(self, key: str) -> tuple[CachedResponse | None, Stamp]:
        if not self.enabled:
            return None, await self.store.stamp()
        return await self.store.lookup(key)

    async def entry_for(
        self, body: bytes, keys: str, stamp: Stamp, last_modified: float = 0.0
    ) -> CachedResponse:
        """A cacheable entry for bytes computed under `stamp`, holding what `keys`
        (surrogate keys, space-separated) name; none: it may hold anything."""
        go_live = await self.schedule.go_live(stamp)
        expires_at = time.time() + self.ttl
        if go_live:
            expires_at = min(expires_at, go_live)
        names = keys.split()
        return CachedResponse(
            body=body,
            etag=strong_etag(body),
            surrogate_keys=keys or ANY_CONTENT,
            expires_at=expires_at,
            go_live=go_live,
            stamp=stamp,
            last_modified=last_modified,
            dependencies=tuple(dependencies(names)),
        )

    async def put(self, key: str, entry: CachedResponse) -> None:
        if self.enabled and entry.expires_at > time.time():
            await self.store.put(key, entry)

    async def invalidate(self, change: ContentChange) -> None:
        """Voids the entries holding what the change touches, and purges the CDN."""
        keys = touched(change)
        if not keys:
            return
        if self.cdn is not None:
            self.cdn.purge(keys)
        await self.store.touch(keys)


# Every cache of this process hears every content change through one listener held
# here; weak references, so that an app that is gone (tests make many) is dropped.
_live_caches: weakref.WeakSet[ResponseCache] = weakref.WeakSet()


async def _on_content_changed(change: ContentChange) -> None:
    for cache in list(_live_caches):
        try:
            await cache.invalidate(change)
        except Exception:
            # Redis down: the change is committed; entries still expire by their TTL.
            logger.exception("response cache invalidation failed for %r", change)


events.subscribe(_on_content_changed)
