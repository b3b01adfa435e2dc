"""Process-wide services shared by requests: Redis (when configured), rate limits."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from cms.services.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from cms.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    redis: Redis | None
    limiter: RateLimiter

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        if settings.redis_url:
            redis = Redis.from_url(settings.redis_url)
            return cls(settings, redis, RedisRateLimiter(redis))
        return cls(settings, None, MemoryRateLimiter())

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
