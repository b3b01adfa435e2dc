"""Real server processes: a committed change outlives a SIGKILL of the server that
made it (the worker delivers it), and two servers on one PostgreSQL deliver each
event once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from cms.models import WebhookEvent
from tests.conftest import BACKEND, GraphQLClient, TestDatabase
from tests.editing.helpers import CREATE_NEWS, PUBLISH_NEWS, sign_in
from tests.feedback.test_two_processes import ROOT, server_process, wait_ready
from tests.webhooks.conftest import FAST, Receiver, add_endpoint, fast_settings


@contextlib.contextmanager
def worker_process(environ: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m cms worker`, stopped with SIGTERM at the end."""
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [sys.executable, "-m", "cms", "worker"],
            cwd=ROOT,
            env={**os.environ, **environ},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield worker
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _environ(database: TestDatabase, **more: str) -> dict[str, str]:
    return {
        "CMS_DATABASE_URL": database.url,
        "CMS_SECRET_KEY": "test-secret-key-not-for-production",
        "CMS_SITE_URL": "https://invest.example",
        "CMS_RESPONSE_CACHE": "off",
        **FAST,
        **more,
    }


async def _token() -> str:
    """An editor's bearer token, its session made directly in the database."""
    holder = GraphQLClient(httpx.AsyncClient())
    await sign_in(holder, "editor")
    await holder.http.aclose()
    return holder.headers["authorization"]


async def _mutate(
    http: httpx.AsyncClient, base: str, token: str, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    response = await http.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": token},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    (payload,) = body["data"].values()
    assert payload["errors"] == [], payload
    return payload


async def test_a_change_committed_before_a_sigkill_is_delivered_by_the_worker(
    db: TestDatabase, receiver: Receiver, tmp_path: Path
) -> None:
    secret, _ = await add_endpoint(fast_settings(db), receiver.url)
    token = await _token()
    # The server sends nothing itself: whatever it commits waits in the outbox.
    environ = _environ(db, CMS_BACKGROUND_IN_SERVER="off")
    with server_process(environ, tmp_path / "server.log") as (base, process):
        async with httpx.AsyncClient(timeout=30) as http:
            await wait_ready(http, base, process)
            created = await _mutate(http, base, token, CREATE_NEWS, {"input": {"title": "Итоги"}})
            await _mutate(http, base, token, PUBLISH_NEWS, {"id": created["news"]["id"]})
        process.send_signal(signal.SIGKILL)  # right after the commit, nothing sent
        assert process.wait(timeout=10) == -signal.SIGKILL
    assert receiver.requests == []
    assert await WebhookEvent.filter(
        event_type="content.published", dispatched_at__isnull=True
    ).exists()
    with worker_process(_environ(db), tmp_path / "worker.log") as worker:
        (request,) = await receiver.wait_for(1, within=30)
    code = worker.returncode
    payload = Webhook(secret).verify(request.body, request.headers)
    assert payload["type"] == "content.published"
    assert payload["data"]["id"] == created["news"]["id"]
    assert code == 0
    assert "Worker stopped." in (tmp_path / "worker.log").read_text()


async def test_two_servers_sharing_postgresql_deliver_each_event_once(
    db: TestDatabase, receiver: Receiver, tmp_path: Path
) -> None:
    if BACKEND != "postgres":
        pytest.skip(
            "several processes claiming deliveries side by side is the PostgreSQL set-up "
            "(SKIP LOCKED); SQLite is one writer (its compare-and-set claim is tested in "
            "test_delivery.py with two senders)"
        )
    await add_endpoint(fast_settings(db), receiver.url)
    token = await _token()
    environ = _environ(db)
    count = 12
    with (
        server_process(environ, tmp_path / "a.log") as (first, first_process),
        server_process(environ, tmp_path / "b.log") as (second, second_process),
    ):
        async with httpx.AsyncClient(timeout=30) as http:
            await wait_ready(http, first, first_process)
            await wait_ready(http, second, second_process)

            async def create_and_publish(n: int) -> None:
                base = (first, second)[n % 2]
                created = await _mutate(
                    http, base, token, CREATE_NEWS, {"input": {"title": f"Новость {n}"}}
                )
                await _mutate(http, base, token, PUBLISH_NEWS, {"id": created["news"]["id"]})

            await asyncio.gather(*(create_and_publish(n) for n in range(count)))
            await receiver.wait_for(count, within=30)
            await asyncio.sleep(1.0)  # time for a duplicate, were there one
    ids = [request.headers["webhook-id"] for request in receiver.requests]
    assert len(ids) == count
    assert len(set(ids)) == count
    assert {request.json()["type"] for request in receiver.requests} == {"content.published"}
