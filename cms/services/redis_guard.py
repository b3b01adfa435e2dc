"""Redis as an optional helper: when it fails, its users carry on without it.

Redis holds shared state (rate limits, the response cache, APQ registrations), never
the only copy of anything, so an outage or an exhausted connection pool must not fail
requests. Each user of Redis keeps a `RedisGuard`: a failure switches that user to
its fallback (in-process limits, no cache) for a short pause, after which one call
tries Redis again; the first success switches back. Warnings are logged when Redis is
lost, at most once a minute while it stays away, and when it is back.

redis-py is imported by the users of Redis only (it is about 5 MiB in a process):
a process without CMS_REDIS_URL never loads it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from cms.observability import hooks
from cms.settings import Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

logger = logging.getLogger("cms.redis")

T = TypeVar("T")

# After a failure, calls go to the fallback this long before one tries Redis again:
# an outage costs one failed call per pause, not one per request.
RETRY_PAUSE_SECONDS = 1.0
# While Redis stays away, the warning is repeated at most this often.
WARN_EVERY_SECONDS = 60.0


def connect(settings: Settings) -> Redis:
    """The process's Redis client. Its pool is bounded; a call that finds every
    connection busy waits up to CMS_REDIS_POOL_TIMEOUT for one, then fails (and the
    caller falls back) instead of opening connections without end."""
    from redis.asyncio import BlockingConnectionPool, Redis

    assert settings.redis_url is not None
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.redis_max_connections,
        timeout=settings.redis_pool_timeout,
        socket_timeout=settings.redis_socket_timeout,
        socket_connect_timeout=settings.redis_connect_timeout,
    )
    return Redis(connection_pool=pool)


class RedisUnavailableError(Exception):
    """Redis did not answer (or is in its pause after a failure): use the fallback."""


class RedisGuard:
    """One user's view of Redis: up, or down since a moment (calls go to the fallback,
    one probe per pause). Warnings: at most one every WARN_EVERY_SECONDS, however
    often Redis flaps (an exhausted pool under a burst can flap every second), and a
    line when Redis is back after a reported outage."""

    def __init__(self, what: str, fallback: str) -> None:
        from redis.exceptions import RedisError

        self._redis_error = RedisError
        # For the log: what uses Redis ("rate limits") and what it does without it
        # ("are counted in this process").
        self.what = what
        self.fallback = fallback
        self._down_since: float | None = None
        self._retry_at = 0.0
        self._warned_at = -WARN_EVERY_SECONDS
        self._reported = False  # this outage was logged: log its end too

    def _may_try(self) -> bool:
        if self._down_since is None:
            return True
        now = time.monotonic()
        if now < self._retry_at:
            return False
        # This call probes; the others keep to the fallback until it answers.
        self._retry_at = now + RETRY_PAUSE_SECONDS
        return True

    async def run(self, call: Callable[[], Awaitable[T]]) -> T:
        """The result of `call`, or RedisUnavailableError."""
        if not self._may_try():
            raise RedisUnavailableError
        try:
            result = await call()
        except self._redis_error as error:
            self._failed(error)
            raise RedisUnavailableError from error
        self._succeeded()
        return result

    def _failed(self, error: RedisError) -> None:
        hooks.redis_error()
        now = time.monotonic()
        self._retry_at = now + RETRY_PAUSE_SECONDS
        if self._down_since is None:
            self._down_since = now
        if now - self._warned_at >= WARN_EVERY_SECONDS:
            self._warned_at = now
            self._reported = True
            logger.warning(
                "Redis unavailable for %.0f s (%s: %s): %s %s until it answers again",
                now - self._down_since,
                type(error).__name__,
                error,
                self.what,
                self.fallback,
            )

    def _succeeded(self) -> None:
        if self._down_since is None:
            return
        if self._reported:
            logger.warning(
                "Redis available again after %.0f s: %s shared again",
                time.monotonic() - self._down_since,
                self.what,
            )
        self._down_since = None
        self._reported = False


async def redis_status(redis: Redis) -> str:
    """ "ok" or "unavailable": one PING, for readiness checks."""
    from redis.exceptions import RedisError

    try:
        await redis.ping()
    except RedisError:
        hooks.redis_error()
        return "unavailable"
    return "ok"
