"""Process-wide services shared by requests: Redis (when configured), rate limits,
the gate of expensive operations, the password checkers, the broker of live events
(GraphQL subscriptions), and the background tasks of a server process. (The response
cache is the HTTP edge's: web/app.py builds it over the same Redis.)"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cms.services import fulltext, live_events
from cms.services.feedback.notifications import FeedbackMailer
from cms.services.live_events import LocalBroker
from cms.services.passwords import PasswordPool
from cms.services.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from cms.services.redis_guard import connect
from cms.services.webhooks.delivery import WebhookSender
from cms.settings import Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis


class ConcurrencyGate:
    """At most `slots` holders at once in this process; a newcomer waits up to `wait`
    seconds for a slot, then is told there is none (and refuses its work)."""

    def __init__(self, slots: int, wait: float) -> None:
        self.slots = slots
        self.wait = wait
        self.running = 0
        self._semaphore = asyncio.Semaphore(slots)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[bool]:
        """Yields whether a slot was had; it is held until the block ends."""
        if not await self._acquire():
            yield False
            return
        self.running += 1
        try:
            yield True
        finally:
            self.running -= 1
            self._semaphore.release()

    async def _acquire(self) -> bool:
        if not self._semaphore.locked():
            await self._semaphore.acquire()  # free: returns at once
            return True
        try:
            async with asyncio.timeout(self.wait):
                await self._semaphore.acquire()
        except TimeoutError:
            return False
        return True


@dataclass
class Runtime:
    settings: Settings
    redis: Redis | None
    limiter: RateLimiter
    # Sends staff e-mails about new feedback and citizens' notices about their
    # appeals; None when SMTP is not configured.
    feedback_mailer: FeedbackMailer | None = None
    # Delivers webhooks from the outbox.
    webhook_sender: WebhookSender = field(init=False)
    # Operations above CMS_EXPENSIVE_COST, a few at a time (graphql_schema/limits.py).
    expensive_operations: ConcurrencyGate = field(init=False)
    # Argon2 for logins, off the event loop.
    passwords: PasswordPool = field(init=False)
    # Content changes to subscribers: in process, or through Redis to every process.
    live: LocalBroker = field(init=False)

    def __post_init__(self) -> None:
        self.expensive_operations = ConcurrencyGate(
            self.settings.expensive_concurrency, self.settings.expensive_wait_ms / 1000
        )
        self.passwords = PasswordPool(self.settings.password_threads, self.settings.password_queue)
        self.live = live_events.create_broker(self.settings, self.redis)
        self.webhook_sender = WebhookSender(self.settings)

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        mailer = FeedbackMailer(settings) if settings.smtp_url else None
        if settings.redis_url:
            redis = connect(settings)
            return cls(settings, redis, RedisRateLimiter(redis), mailer)
        return cls(settings, None, MemoryRateLimiter(), mailer)

    @contextlib.asynccontextmanager
    async def background(self, *, force: bool = False) -> AsyncIterator[None]:
        """Runs the background tasks while the block runs: live events always (the
        server's lifespan, inside the database's); e-mails and webhooks from their
        outboxes, and the search index of new feedback (SQLite), unless
        CMS_BACKGROUND_IN_SERVER is off, and always for
        `python -m cms worker` (`force`)."""
        tasks = [asyncio.create_task(self.live.run(), name="live-events")]
        if force or self.settings.background_in_server:
            if self.feedback_mailer is not None:
                tasks.append(
                    asyncio.create_task(self.feedback_mailer.run(), name="feedback-mailer")
                )
            tasks.append(asyncio.create_task(self.webhook_sender.run(), name="webhook-sender"))
            tasks.append(asyncio.create_task(fulltext.keep_indexed(), name="search-index"))
        live_events.attach(self.live)
        try:
            yield
        finally:
            live_events.detach(self.live)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def close(self) -> None:
        self.passwords.close()
        await self.live.close()
        if self.redis is not None:
            await self.redis.aclose()
