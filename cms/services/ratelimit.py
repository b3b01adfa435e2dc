"""Fixed-window rate limits: in-process by default, shared through Redis when
CMS_REDIS_URL is set, so that several server processes enforce one limit.

Keys are hashed before they are stored: they often hold an e-mail or an address.

`hit` counts before anything is checked, atomically (one INCR in Redis; no await
between reading and writing the count in process), so it reserves the attempt: of
many concurrent events at most the limit are allowed. `release` gives a reserved
attempt back (a login that succeeded is not a failure).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from cms.services.redis_guard import RedisGuard, RedisUnavailableError
from cms.services.viewer import Viewer
from cms.settings import Limit, Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: int  # seconds until the window ends; 0 when allowed
    window: int = 0  # the window the event was counted in, for `release`


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: Limit) -> Decision:
        """Counts one event; refused when it goes over the limit."""

    async def peek(self, key: str, limit: Limit) -> Decision:
        """Would one more event be refused? Counts nothing."""

    async def release(self, key: str, limit: Limit, window: int) -> None:
        """Takes back one event counted by `hit` in `window` (its Decision's)."""

    async def reset(self, key: str, limit: Limit) -> None: ...


def _window(limit: Limit, now: float) -> tuple[int, int]:
    """(window number, seconds until it ends)."""
    number = int(now // limit.seconds)
    return number, max(1, math.ceil((number + 1) * limit.seconds - now))


@functools.lru_cache(maxsize=65_536)
def _digest(key: str) -> str:
    # Memoised: the anonymous limit is counted on every request, cache hits included.
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class MemoryRateLimiter:
    """One process's counters; old windows are dropped as the table grows."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._counts: dict[str, tuple[int, int]] = {}
        self._max_keys = max_keys

    def _key(self, key: str, limit: Limit) -> str:
        return f"{_digest(key)}:{limit.seconds}"

    async def hit(self, key: str, limit: Limit) -> Decision:
        now = time.time()
        number, remaining = _window(limit, now)
        slot = self._key(key, limit)
        window, count = self._counts.get(slot, (number, 0))
        count = count + 1 if window == number else 1
        if len(self._counts) >= self._max_keys and slot not in self._counts:
            self._prune(now)
        self._counts[slot] = (number, count)
        return Decision(count <= limit.count, 0 if count <= limit.count else remaining, number)

    async def peek(self, key: str, limit: Limit) -> Decision:
        number, remaining = _window(limit, time.time())
        window, count = self._counts.get(self._key(key, limit), (number, 0))
        if window != number or count < limit.count:
            return Decision(True, 0)
        return Decision(False, remaining)

    async def release(self, key: str, limit: Limit, window: int) -> None:
        slot = self._key(key, limit)
        counted = self._counts.get(slot)
        if counted is not None and counted[0] == window and counted[1] > 0:
            self._counts[slot] = (window, counted[1] - 1)

    async def reset(self, key: str, limit: Limit) -> None:
        self._counts.pop(self._key(key, limit), None)

    def _prune(self, now: float) -> None:
        def current(slot: str, window: int) -> bool:
            seconds = int(slot.rsplit(":", 1)[1])
            return window == int(now // seconds)

        self._counts = {slot: v for slot, v in self._counts.items() if current(slot, v[0])}
        if len(self._counts) >= self._max_keys:
            self._counts.clear()


class RedisRateLimiter:
    """Counters in Redis: INCR and EXPIRE in one transaction per event. While Redis
    fails, counters of this process stand in (with a logged warning): limits then hold
    per process instead of across them, and requests keep being answered."""

    def __init__(self, redis: Redis, prefix: str = "cms:rl") -> None:
        self._redis = redis
        self._prefix = prefix
        self._fallback = MemoryRateLimiter()
        self._guard = RedisGuard("rate limits", "are counted in this process")

    def _key(self, key: str, limit: Limit, number: int) -> str:
        return f"{self._prefix}:{_digest(key)}:{limit.seconds}:{number}"

    async def _add(self, slot: str, amount: int, limit: Limit) -> int:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incrby(slot, amount)
            pipe.expire(slot, limit.seconds + 1)
            count, _ = await pipe.execute()
        return int(count)

    async def hit(self, key: str, limit: Limit) -> Decision:
        number, remaining = _window(limit, time.time())
        slot = self._key(key, limit, number)
        try:
            count = await self._guard.run(lambda: self._add(slot, 1, limit))
        except RedisUnavailableError:
            return await self._fallback.hit(key, limit)
        return Decision(count <= limit.count, 0 if count <= limit.count else remaining, number)

    async def peek(self, key: str, limit: Limit) -> Decision:
        number, remaining = _window(limit, time.time())
        try:
            raw = await self._guard.run(lambda: self._redis.get(self._key(key, limit, number)))
        except RedisUnavailableError:
            return await self._fallback.peek(key, limit)
        if raw is None or int(raw) < limit.count:
            return Decision(True, 0)
        return Decision(False, remaining)

    async def release(self, key: str, limit: Limit, window: int) -> None:
        # A window's key is read only during that window: a count that goes below
        # zero after the key expired is never read.
        slot = self._key(key, limit, window)
        try:
            await self._guard.run(lambda: self._add(slot, -1, limit))
        except RedisUnavailableError:
            await self._fallback.release(key, limit, window)

    async def reset(self, key: str, limit: Limit) -> None:
        number, _ = _window(limit, time.time())
        with contextlib.suppress(RedisUnavailableError):
            await self._guard.run(lambda: self._redis.delete(self._key(key, limit, number)))
        # Counted here while Redis was away: reset too.
        await self._fallback.reset(key, limit)


async def hit_request_limit(limiter: RateLimiter, viewer: Viewer, settings: Settings) -> Decision:
    """Counts one HTTP request of the caller: per address when anonymous, per account
    or token otherwise."""
    if viewer.is_anonymous:
        return await hit_address_limit(limiter, viewer.address, settings)
    return await limiter.hit(f"request:{viewer.principal}", settings.rate_limit_token)


async def hit_address_limit(
    limiter: RateLimiter, address: str | None, settings: Settings
) -> Decision:
    """Counts one HTTP request of an anonymous caller at `address` (the fast lane's
    cache hits count here without making a Viewer)."""
    return await limiter.hit(f"request:address:{address}", settings.rate_limit_anonymous)
