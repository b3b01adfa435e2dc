"""A real `python server.py`: metrics summed over two worker processes, and a SIGTERM
under load that loses no accepted request."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import TestDatabase
from tests.ops.conftest import output_of, server_process, wait_ready
from tests.ops.test_metrics import samples, value

QUERY = "query Regions { regions { code } }"


def _environ(database: TestDatabase, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "CMS_DATABASE_URL": database.url,
        "CMS_SECRET_KEY": "test-secret-key-not-for-production",
        "CMS_MEDIA_ROOT": str(tmp_path / "media"),
        "CMS_RESPONSE_CACHE": "off",
        **extra,
    }


async def test_two_workers_report_one_sum(seeded_db: TestDatabase, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    environ = _environ(seeded_db, tmp_path, CMS_WORKERS="2", CMS_METRICS="on")
    with server_process(environ, log) as (base, process):
        await wait_ready(base, process, log)
        pids: set[str] = set()
        deadline = time.monotonic() + 30
        async with httpx.AsyncClient(base_url=base) as http:
            while len(pids) < 2:  # both workers started and write their files
                assert time.monotonic() < deadline, output_of(log)
                scraped = samples((await http.get("/metrics")).text)
                pids = {
                    dict(labels)["pid"]
                    for (name, labels), _ in scraped.items()
                    if name == "cms_worker_processes" and "pid" in dict(labels)
                }
                await asyncio.sleep(0.1)
        # Separate connections, so that both workers take some of them.
        for _ in range(20):
            async with httpx.AsyncClient(base_url=base) as http:
                response = await http.post("/graphql", json={"query": QUERY})
                assert response.status_code == 200
        totals = []
        for _ in range(4):  # whichever worker answers, it reports the sum of both
            async with httpx.AsyncClient(base_url=base) as http:
                scraped = samples((await http.get("/metrics")).text)
            totals.append(
                value(
                    scraped,
                    "cms_http_requests_total",
                    route="/graphql",
                    method="POST",
                    status="200",
                    operation="Regions",
                )
            )
        assert totals == [20.0] * 4, totals
        assert len(pids) == 2


async def _slow_request(base: str, gate: asyncio.Event, started: list[int]) -> httpx.Response:
    """A POST whose body arrives in two parts, the second after `gate` opens: in
    flight for as long as the test wants."""
    body = json.dumps({"query": QUERY}).encode()
    half = len(body) // 2

    async def content() -> AsyncIterator[bytes]:
        yield body[:half]
        started.append(1)
        await gate.wait()
        yield body[half:]

    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        return await http.post(
            "/graphql",
            content=content(),
            headers={"content-type": "application/json", "content-length": str(len(body))},
        )


async def test_sigterm_finishes_requests_in_flight(seeded_db: TestDatabase, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    environ = _environ(seeded_db, tmp_path, CMS_SHUTDOWN_TIMEOUT="20")
    with server_process(environ, log) as (base, process):
        await wait_ready(base, process, log)
        gate = asyncio.Event()
        started: list[int] = []
        requests = [asyncio.create_task(_slow_request(base, gate, started)) for _ in range(50)]
        deadline = time.monotonic() + 30
        while len(started) < 50:
            assert time.monotonic() < deadline, "the clients did not start"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # the server has accepted them and reads their bodies
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.5)
        # It accepts no new connection meanwhile.
        async with httpx.AsyncClient(base_url=base, timeout=2) as http:
            with pytest.raises(httpx.TransportError):
                await http.get("/healthz")
        gate.set()
        responses = await asyncio.gather(*requests)
        assert [response.status_code for response in responses] == [200] * 50
        for response in responses:
            assert {region["code"] for region in response.json()["data"]["regions"]} >= {"RU-AMU"}
        returncode = await asyncio.to_thread(process.wait, 20)
        assert time.monotonic() - signalled < 20
        # uvicorn re-raises the signal after its graceful shutdown.
        assert returncode in (0, -signal.SIGTERM), output_of(log)
    assert "Traceback" not in output_of(log)


async def test_shutdown_is_bounded_by_the_timeout(seeded_db: TestDatabase, tmp_path: Path) -> None:
    """A request that never completes does not keep the process alive past
    CMS_SHUTDOWN_TIMEOUT."""
    log = tmp_path / "server.log"
    environ = _environ(seeded_db, tmp_path, CMS_SHUTDOWN_TIMEOUT="2")
    with server_process(environ, log) as (base, process):
        await wait_ready(base, process, log)
        gate = asyncio.Event()  # never opened
        started: list[int] = []
        stalled = asyncio.create_task(_slow_request(base, gate, started))
        deadline = time.monotonic() + 30
        while not started:
            assert time.monotonic() < deadline, "the client did not start"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(process.wait, 15)
        assert time.monotonic() - signalled < 2 + 5, output_of(log)
        stalled.cancel()
