"""Rate limits reserve before checking, give back, and survive a Redis that is gone."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest
from redis.asyncio import BlockingConnectionPool, Redis

from cms.services.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from cms.services.redis_guard import connect
from cms.settings import Limit, load_settings
from tests.conftest import require_redis_url
from tests.feedback.conftest import free_port

LIMIT = Limit(5, 600)


async def concurrent_hits_and_release(limiter: RateLimiter) -> None:
    key = f"test:{uuid.uuid4().hex}"
    decisions = await asyncio.gather(*(limiter.hit(key, LIMIT) for _ in range(50)))
    assert sum(decision.allowed for decision in decisions) == 5
    # Giving back the refused ones and one allowed one leaves room for exactly one.
    for decision in decisions:
        if not decision.allowed:
            await limiter.release(key, LIMIT, decision.window)
    await limiter.release(key, LIMIT, decisions[0].window)
    assert (await limiter.hit(key, LIMIT)).allowed
    assert not (await limiter.hit(key, LIMIT)).allowed
    await limiter.reset(key, LIMIT)
    assert (await limiter.hit(key, LIMIT)).allowed
    await limiter.reset(key, LIMIT)


async def test_memory_limiter_reserves_and_releases() -> None:
    await concurrent_hits_and_release(MemoryRateLimiter())


async def test_redis_limiter_reserves_and_releases() -> None:
    redis = Redis.from_url(require_redis_url())
    try:
        await concurrent_hits_and_release(RedisRateLimiter(redis, f"cms-test-{uuid.uuid4().hex}"))
    finally:
        await redis.aclose()


async def test_without_redis_the_limits_hold_in_process_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Nothing listens on the port: every connection is refused.
    settings = load_settings(
        {"CMS_SECRET_KEY": "k", "CMS_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    )
    redis = connect(settings)
    try:
        limiter = RedisRateLimiter(redis)
        with caplog.at_level(logging.WARNING, logger="cms.redis"):
            await concurrent_hits_and_release(limiter)
            await concurrent_hits_and_release(limiter)
        warnings = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
        assert len(warnings) == 1, warnings
        assert "rate limits are counted in this process" in warnings[0].getMessage()
    finally:
        await redis.aclose()


async def test_the_redis_pool_is_bounded_as_configured() -> None:
    settings = load_settings(
        {
            "CMS_SECRET_KEY": "k",
            "CMS_REDIS_URL": "redis://127.0.0.1:6379/0",
            "CMS_REDIS_MAX_CONNECTIONS": "7",
            "CMS_REDIS_POOL_TIMEOUT": "0.25",
            "CMS_REDIS_SOCKET_TIMEOUT": "2",
            "CMS_REDIS_CONNECT_TIMEOUT": "0.5",
        }
    )
    redis = connect(settings)
    try:
        pool = redis.connection_pool
        assert isinstance(pool, BlockingConnectionPool)
        assert (pool.max_connections, pool.timeout) == (7, 0.25)
        assert pool.connection_kwargs["socket_timeout"] == 2.0
        assert pool.connection_kwargs["socket_connect_timeout"] == 0.5
    finally:
        await redis.aclose()
