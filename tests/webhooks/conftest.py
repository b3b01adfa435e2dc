"""A real webhook receiver (an HTTP server on 127.0.0.1 in a thread), senders with
short retry delays, and helpers to make endpoints and content changes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from cms.models import WebhookEndpoint
from cms.services.webhooks import endpoints
from cms.services.webhooks.delivery import RoundReport, WebhookSender
from cms.services.webhooks.endpoints import EndpointInput
from cms.services.webhooks.events import EventType
from cms.settings import Settings
from tests.conftest import GraphQLClient, TestDatabase, client_with, make_settings
from tests.editing.helpers import sign_in

# Short delays, so that retries happen within a test; private addresses allowed for
# the receiver on 127.0.0.1.
FAST = {
    "CMS_WEBHOOK_ALLOW_PRIVATE": "on",
    "CMS_WEBHOOK_RETRY_FIRST_SECONDS": "0.05",
    "CMS_WEBHOOK_RETRY_MAX_SECONDS": "0.2",
    "CMS_WEBHOOK_POLL_SECONDS": "0.1",
    "CMS_WEBHOOK_TIMEOUT_SECONDS": "2",
}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    delay: float = 0.0
    body: bytes = b'{"ok": true}'
    headers: dict[str, str] = field(default_factory=dict)


class Receiver:
    """Records every request; answers with the scripted answers in turn, then with
    `default`."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.script: list[Answer] = []
        self.default = Answer()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                with receiver._lock:
                    answer = receiver.script.pop(0) if receiver.script else receiver.default
                if answer.delay:
                    time.sleep(answer.delay)
                with receiver._lock:
                    receiver.requests.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:  # the sender gave up waiting (a time-out test)
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    async def wait_for(self, count: int, within: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + within
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"the receiver got {len(self.requests)} requests, not {count}")
            await asyncio.sleep(0.02)
        return list(self.requests)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def fast_settings(database: TestDatabase, **env: str) -> Settings:
    return make_settings(database.url, **{**FAST, **env})


async def add_endpoint(
    settings: Settings, url: str, *events: EventType, content_types: tuple[str, ...] = ()
) -> tuple[str, WebhookEndpoint]:
    return await endpoints.create(
        settings,
        EndpointInput(
            url=url,
            event_types=list(events) or [EventType.CONTENT_PUBLISHED],
            content_types=list(content_types),
        ),
        created_by=None,
    )


async def rounds_until(
    sender: WebhookSender, done: Any, *, within: float = 15.0
) -> list[RoundReport]:
    """Runs the sender's rounds (as its loop would) until `done()` is true."""
    reports = []
    deadline = time.monotonic() + within
    while not done():
        if time.monotonic() > deadline:
            pytest.fail("the sender did not get there in time")
        reports.append(await sender.run_once())
        await asyncio.sleep(0.02)
    return reports


@contextlib.asynccontextmanager
async def staff_client(
    database: TestDatabase, role: str, **env: str
) -> AsyncIterator[GraphQLClient]:
    async with client_with(database, **{**FAST, **env}) as client:
        await sign_in(client, role)
        yield client
