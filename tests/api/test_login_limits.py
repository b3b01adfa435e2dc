"""Login limits under concurrency, Argon2 off the event loop, and a lockout that
nobody can turn against an editor: per (account, address) first, a slower limit
per account, and an admin who unlocks.

Every wrong password that is verified answers INVALID_CREDENTIALS and every one
refused before verification answers RATE_LIMITED, so counting the answers counts
the verifications."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cms.models import User
from graphql_schema.relay import global_id
from tests.conftest import (
    LOGIN,
    STAFF_PASSWORD,
    TestDatabase,
    client_with,
    create_staff,
    login_as,
)
from tests.feedback.test_two_processes import server_process, wait_ready
from tests.own_redis import own_redis

UNLOCK = "mutation($id: ID!) { unlockUser(id: $id) { user { email } errors { code message } } }"


def environ(db: TestDatabase, **extra: str) -> dict[str, str]:
    return {
        "CMS_DATABASE_URL": db.url,
        "CMS_SECRET_KEY": "test-secret-key-not-for-production",
        "CMS_ACCESS_LOG": "off",
        "CMS_TRUSTED_PROXIES": "127.0.0.1",
        "CMS_RATE_LIMIT_ANONYMOUS": "1000000/60",
        **extra,
    }


@contextlib.contextmanager
def limiter_backend(kind: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The settings of the in-process limiter, or of a Redis of the test's own."""
    if kind == "memory":
        yield {}
        return
    with own_redis(tmp_path) as redis:
        # Patient timeouts: on a busy machine a slow answer would switch the limits to
        # the process's own counters (a fallback that holds per process, tested in
        # tests/cms/test_ratelimit.py); this test is about the shared counter.
        yield {
            "CMS_REDIS_URL": redis.url,
            "CMS_REDIS_POOL_TIMEOUT": "60",
            "CMS_REDIS_SOCKET_TIMEOUT": "60",
        }


async def login(
    http: httpx.AsyncClient, base: str, email: str, password: str, address: str
) -> dict[str, Any]:
    response = await http.post(
        f"{base}/graphql",
        json={"query": LOGIN, "variables": {"email": email, "password": password}},
        headers={"x-forwarded-for": address},
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]["login"]


def code(answer: dict[str, Any]) -> str:
    return answer["errors"][0]["code"] if answer["errors"] else "OK"


@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_100_concurrent_wrong_passwords_verify_at_most_the_limit(
    kind: str, db: TestDatabase, tmp_path: Path
) -> None:
    email = await create_staff("editor")
    with (
        limiter_backend(kind, tmp_path) as backend,
        server_process(environ(db, **backend), tmp_path / "server.log") as (base, process),
    ):
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(timeout=120, limits=limits) as http:
            await wait_ready(http, base, process)
            answers = await asyncio.gather(
                *(
                    login(http, base, email, f"wrong password {n}", "203.0.113.7")
                    for n in range(100)
                )
            )
            codes = [code(answer) for answer in answers]
            # The default limit per (account, address) is 5 failures in 15 minutes.
            assert codes.count("INVALID_CREDENTIALS") == 5, codes
            assert codes.count("RATE_LIMITED") == 95, codes
            # Counted, so the right password from there is refused now as well.
            assert code(await login(http, base, email, STAFF_PASSWORD, "203.0.113.7")) == (
                "RATE_LIMITED"
            )


async def test_healthz_answers_at_once_during_a_burst_of_logins(
    db: TestDatabase, tmp_path: Path
) -> None:
    email = await create_staff("editor")
    # Nothing refused: every login of the burst runs Argon2.
    settings = environ(db, CMS_LOGIN_LIMIT_ACCOUNT="100000/900")
    with server_process(settings, tmp_path / "server.log") as (base, process):
        async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=100)) as http:
            await wait_ready(http, base, process)
            alone: list[float] = []
            for n in range(200, 203):  # one login at a time, each from its own address
                started = time.perf_counter()
                answer = await login(http, base, email, "wrong password", f"198.51.100.{n}")
                assert code(answer) == "INVALID_CREDENTIALS"
                alone.append(time.perf_counter() - started)
            one_login = statistics.median(alone)

            burst = asyncio.gather(
                *(
                    login(http, base, email, "wrong password", f"198.51.100.{n}")
                    for n in range(2, 62)
                )
            )
            latencies: list[float] = []
            while not burst.done():
                started = time.perf_counter()
                response = await http.get(f"{base}/healthz")
                assert response.status_code == 200
                if not burst.done():
                    latencies.append(time.perf_counter() - started)
            codes = [code(answer) for answer in await burst]
            assert codes == ["INVALID_CREDENTIALS"] * 60, codes

    # Relative, not a timing threshold: while sixty password checks run, the health
    # check answers many times, and typically much faster than one login takes.
    assert len(latencies) >= 10, (latencies, one_login)
    assert statistics.median(latencies) < one_login / 2, (latencies, one_login)


async def test_a_locked_address_does_not_lock_the_account_elsewhere(db: TestDatabase) -> None:
    email = await create_staff("editor")
    async with client_with(db, CMS_TRUSTED_PROXIES="127.0.0.1") as client:
        attacker = {"x-forwarded-for": "203.0.113.66"}
        for _ in range(5):
            answer = await client.post(LOGIN, {"email": email, "password": "guess"}, **attacker)
            assert code(answer["data"]["login"]) == "INVALID_CREDENTIALS"
        refused = await client.post(LOGIN, {"email": email, "password": STAFF_PASSWORD}, **attacker)
        assert code(refused["data"]["login"]) == "RATE_LIMITED"

        editor = {"x-forwarded-for": "198.51.100.20"}
        answer = await client.post(LOGIN, {"email": email, "password": STAFF_PASSWORD}, **editor)
        assert answer["data"]["login"]["errors"] == []
        assert answer["data"]["login"]["token"].startswith("cmsu_")


async def test_the_account_limit_is_slower_and_an_admin_unlocks(db: TestDatabase) -> None:
    email = await create_staff("editor")
    user_id = global_id("User", (await User.get(email=email)).pk)
    settings = {
        "CMS_TRUSTED_PROXIES": "127.0.0.1",
        "CMS_LOGIN_LIMIT_ACCOUNT_ADDRESS": "2/900",
        "CMS_LOGIN_LIMIT_ACCOUNT": "6/3600",
    }
    async with client_with(db, **settings) as client:

        async def attempt(password: str, address: str) -> str:
            answer = await client.post(
                LOGIN, {"email": email, "password": password}, **{"x-forwarded-for": address}
            )
            return code(answer["data"]["login"])

        # Guesses from three addresses: each is locked after two, the account after six.
        for address in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
            assert [await attempt("guess", address) for _ in range(3)] == [
                "INVALID_CREDENTIALS",
                "INVALID_CREDENTIALS",
                "RATE_LIMITED",
            ]
        assert await attempt(STAFF_PASSWORD, "198.51.100.20") == "RATE_LIMITED"

        # Only an admin unlocks.
        await login_as(client, "editor")
        denied = await client.post(UNLOCK, {"id": user_id})
        assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        await login_as(client, "admin")
        unlocked = await client.data(UNLOCK, {"id": user_id})
        assert unlocked["unlockUser"] == {"user": {"email": email}, "errors": []}
        missing = await client.data(UNLOCK, {"id": global_id("User", 999_999)})
        assert missing["unlockUser"]["errors"][0]["code"] == "NOT_FOUND"
        client.headers.pop("authorization")

        # Every address may try again, the locked ones included.
        assert await attempt(STAFF_PASSWORD, "198.51.100.20") == "OK"
        assert await attempt(STAFF_PASSWORD, "203.0.113.1") == "OK"


async def test_a_successful_login_is_not_counted_as_a_failure(db: TestDatabase) -> None:
    email = await create_staff("editor")
    async with client_with(db, CMS_LOGIN_LIMIT_ADDRESS="3/900") as client:
        for _ in range(6):
            answer = await client.data(LOGIN, {"email": email, "password": STAFF_PASSWORD})
            assert answer["login"]["errors"] == []


async def test_logins_beyond_the_password_queue_are_refused_at_once(db: TestDatabase) -> None:
    email = await create_staff("editor")
    settings = {
        "CMS_TRUSTED_PROXIES": "127.0.0.1",
        "CMS_PASSWORD_THREADS": "1",
        "CMS_PASSWORD_QUEUE": "0",
    }
    async with client_with(db, **settings) as client:

        async def attempt(number: int) -> dict[str, Any]:
            address = {"x-forwarded-for": f"192.0.2.{number}"}
            answer = await client.post(LOGIN, {"email": email, "password": "guess"}, **address)
            return answer["data"]["login"]

        answers = await asyncio.gather(*(attempt(number) for number in range(1, 13)))
        codes = sorted({code(answer) for answer in answers})
        assert codes == ["INVALID_CREDENTIALS", "RATE_LIMITED"], answers
        busy = next(answer for answer in answers if code(answer) == "RATE_LIMITED")
        assert busy["errors"][0]["message"] == (
            "Сейчас проверяется слишком много паролей. Повторите через 1 с."
        )
        # Refused unchecked, so not counted: the right password works afterwards.
        answer = await client.post(LOGIN, {"email": email, "password": STAFF_PASSWORD})
        assert answer["data"]["login"]["errors"] == []


async def test_a_successful_login_leaves_the_accounts_failures_counted(db: TestDatabase) -> None:
    """The editor logging in does not hand a guesser elsewhere a fresh budget."""
    email = await create_staff("editor")
    settings = {"CMS_TRUSTED_PROXIES": "127.0.0.1", "CMS_LOGIN_LIMIT_ACCOUNT": "3/3600"}
    async with client_with(db, **settings) as client:

        async def attempt(password: str, address: str) -> str:
            answer = await client.post(
                LOGIN, {"email": email, "password": password}, **{"x-forwarded-for": address}
            )
            return code(answer["data"]["login"])

        assert await attempt("guess", "203.0.113.1") == "INVALID_CREDENTIALS"
        assert await attempt("guess", "203.0.113.2") == "INVALID_CREDENTIALS"
        assert await attempt(STAFF_PASSWORD, "198.51.100.20") == "OK"
        assert await attempt("guess", "203.0.113.3") == "INVALID_CREDENTIALS"
        assert await attempt("guess", "203.0.113.4") == "RATE_LIMITED"
