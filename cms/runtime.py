"""Process-wide services shared by requests: Redis (when configured), rate limits,
the response cache, and the background tasks of a server process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from redis.asyncio import Redis

from cms.services.feedback.notifications import FeedbackMailer
from cms.services.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from cms.settings import Settings
from web.response_cache import ResponseCache


@dataclass
class Runtime:
    settings: Settings
    redis: Redis | None
    limiter: RateLimiter
    # Sends staff e-mails about new feedback and citizens' notices about their
    # appeals; None when SMTP is not configured.
    feedback_mailer: FeedbackMailer | None = None
    # Public responses and APQ documents: in process, or in Redis when configured.
    response_cache: ResponseCache = field(init=False)

    def __post_init__(self) -> None:
        self.response_cache = ResponseCache.create(self.settings, self.redis)

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        mailer = FeedbackMailer(settings) if settings.smtp_url else None
        if settings.redis_url:
            redis = Redis.from_url(settings.redis_url)
            return cls(settings, redis, RedisRateLimiter(redis), mailer)
        return cls(settings, None, MemoryRateLimiter(), mailer)

    @contextlib.asynccontextmanager
    async def background(self) -> AsyncIterator[None]:
        """Runs the background tasks while the block runs (the server's lifespan,
        inside the database's)."""
        tasks = []
        if self.feedback_mailer is not None:
            tasks.append(asyncio.create_task(self.feedback_mailer.run(), name="feedback-mailer"))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
