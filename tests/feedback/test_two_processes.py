"""The feedback limits hold across two server processes that share Redis."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from cms.models import FeedbackMessage
from cms.services.ratelimit import RedisRateLimiter
from cms.settings import Limit
from tests.conftest import TestDatabase
from tests.feedback.conftest import SUBMIT, form, free_port

ROOT = Path(__file__).resolve().parents[2]
ADDRESS_LIMIT = Limit(3, 600)
CONTACT_LIMIT = Limit(2, 600)


@contextlib.contextmanager
def server_process(
    environ: dict[str, str], log: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "web.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "info",
                # The application's own trusted-proxy rule reads X-Forwarded-For.
                "--no-proxy-headers",
            ],
            cwd=ROOT,
            env={**os.environ, **environ},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def wait_ready(http: httpx.AsyncClient, base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server process exited"
        with contextlib.suppress(httpx.TransportError):
            if (await http.get(f"{base}/readyz")).status_code == 200:
                return
        await asyncio.sleep(0.1)
    pytest.fail(f"{base} did not become ready")


@contextlib.asynccontextmanager
async def own_keys_removed(redis_url: str, keys: list[tuple[str, Limit]]) -> AsyncIterator[None]:
    """Deletes this test's counters afterwards, and only them (the Redis is shared)."""
    try:
        yield
    finally:
        redis = Redis.from_url(redis_url)
        limiter = RedisRateLimiter(redis)
        for key, limit in keys:
            await limiter.reset(key, limit)
        await redis.aclose()


async def test_the_limits_count_across_two_processes_sharing_redis(
    redis_url: str, empty_db: TestDatabase, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:12]
    # Both servers see the test as 127.0.0.1: a trusted proxy that forwards a client
    # address unique to this run, so that no other run shares its counters.
    address = f"2001:db8::{run[:4]}:{run[4:8]}:{run[8:]}"
    burst_address = f"2001:db8:1::{run[:4]}:{run[4:8]}:{run[8:]}"
    email = f"redis-{run}@example.ru"
    environ = {
        "CMS_DATABASE_URL": empty_db.url,
        "CMS_REDIS_URL": redis_url,
        "CMS_SECRET_KEY": "test-secret-key-not-for-production",
        "CMS_TRUSTED_PROXIES": "127.0.0.1",
        "CMS_FEEDBACK_LIMIT_ADDRESS": f"{ADDRESS_LIMIT.count}/{ADDRESS_LIMIT.seconds}",
        "CMS_FEEDBACK_LIMIT_CONTACT": f"{CONTACT_LIMIT.count}/{CONTACT_LIMIT.seconds}",
    }
    used_keys = [
        (f"feedback:address:{address}", ADDRESS_LIMIT),
        (f"feedback:address:{burst_address}", ADDRESS_LIMIT),
        (f"feedback:email:{email}", CONTACT_LIMIT),
        *((f"feedback:address:198.51.100.{n}", ADDRESS_LIMIT) for n in range(3)),
        *((f"feedback:email:p{n}-{run}@example.ru", CONTACT_LIMIT) for n in range(14)),
        *((f"request:address:{a}", Limit(600, 60)) for a in (address, burst_address)),
    ]

    async def send(base: str, forwarded: str, **changes: Any) -> dict[str, Any]:
        response = await http.post(
            f"{base}/graphql",
            json={"query": SUBMIT, "variables": {"input": form(**changes)}},
            headers={"x-forwarded-for": forwarded},
        )
        assert response.status_code == 200, response.text
        return response.json()["data"]["submitFeedback"]

    with (
        server_process(environ, tmp_path / "a.log") as (first, first_process),
        server_process(environ, tmp_path / "b.log") as (second, second_process),
    ):
        async with httpx.AsyncClient(timeout=30) as http, own_keys_removed(redis_url, used_keys):
            await wait_ready(http, first, first_process)
            await wait_ready(http, second, second_process)
            # Per address: alternately to each server, the fourth is refused.
            by_address = [
                await send(
                    (first, second)[n % 2],
                    address,
                    email=f"p{n}-{run}@example.ru",
                    phone=None,
                    message=f"Вопрос {n}",
                )
                for n in range(4)
            ]
            # Per contact: one e-mail from three addresses, alternately; the third refused.
            by_contact = [
                await send(
                    (first, second)[n % 2],
                    f"198.51.100.{n}",
                    email=email,
                    phone=None,
                    message=f"Другой вопрос {n}",
                )
                for n in range(3)
            ]
            # A burst at both servers at once from one address: exactly the limit passes.
            burst = await asyncio.gather(
                *(
                    send(
                        (first, second)[n % 2],
                        burst_address,
                        email=f"p{n + 4}-{run}@example.ru",
                        phone=None,
                        message=f"Залп {n}",
                    )
                    for n in range(10)
                )
            )
    assert [bool(payload["ticket"]) for payload in by_address] == [True, True, True, False]
    assert by_address[3]["errors"][0]["code"] == "RATE_LIMITED"
    assert by_address[3]["errors"][0]["retryAfter"] > 0
    assert [bool(payload["ticket"]) for payload in by_contact] == [True, True, False]
    assert sum(bool(payload["ticket"]) for payload in burst) == ADDRESS_LIMIT.count
    assert {payload["errors"][0]["code"] for payload in burst if not payload["ticket"]} == {
        "RATE_LIMITED"
    }
    assert await FeedbackMessage.all().count() == 3 + 2 + ADDRESS_LIMIT.count
    # Neither server wrote the sender's contact to its log.
    for log in ("a.log", "b.log"):
        text = (tmp_path / log).read_text(errors="replace")
        assert "POST /graphql" in text
        assert run not in text
