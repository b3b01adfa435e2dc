"""Fixtures of the feedback tests: an app with chosen settings, callers from chosen
addresses, a real SMTP server on a free port."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.conftest import GraphQLClient, TestDatabase, make_settings
from web.app import create_app

SUBMIT = """
mutation($input: SubmitFeedbackInput!) {
  submitFeedback(input: $input) { ticket errors { field code message retryAfter } }
}
"""
PEER_HEADER = "x-test-peer"


def form(**changes: Any) -> dict[str, Any]:
    """A valid submission, with `changes`."""
    values: dict[str, Any] = {
        "kind": "QUESTION",
        "name": "Иван Петров",
        "email": "ivan.petrov@example.ru",
        "phone": "+7 916 123-45-67",
        "subject": "Земельный участок под производство",
        "message": "Здравствуйте! Какие участки есть в ТОР «Амурская»?",
        "consentToProcessing": True,
    }
    values.update(changes)
    return {key: value for key, value in values.items() if value is not ...}


async def submit(client: GraphQLClient, peer: str | None = None, **changes: Any) -> dict[str, Any]:
    """The submitFeedback payload of `form(**changes)`, sent from `peer`."""
    headers = {PEER_HEADER: peer} if peer else {}
    result = await client.post(SUBMIT, {"input": form(**changes)}, **headers)
    assert "errors" not in result, result
    return result["data"]["submitFeedback"]


class PeerFromHeader:
    """Sets the connection's address (scope["client"]) from a test header, as
    distinct TCP peers would; the application itself never reads the header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == PEER_HEADER.encode():
                    scope = {**scope, "client": (value.decode(), 40000)}
        await self.app(scope, receive, send)


@dataclass
class App:
    app: Starlette
    client: GraphQLClient


@contextlib.asynccontextmanager
async def feedback_app(database: TestDatabase, **environ: str) -> AsyncIterator[App]:
    """The application over `database` with extra CMS_* settings."""
    app = create_app(make_settings(database.url, **environ), manage_database=False)
    transport = httpx.ASGITransport(app=PeerFromHeader(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield App(app, GraphQLClient(http))


def running(app: App) -> contextlib.AbstractAsyncContextManager[None]:
    """The app's lifespan (its background tasks), as a server process runs it;
    httpx.ASGITransport alone does not run it."""
    return app.app.router.lifespan_context(app.app)


async def until(condition: Callable[[], Awaitable[bool]], *, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        await asyncio.sleep(0.05)


# ---------------------------------------------------------------- SMTP


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class SmtpRecorder:
    """An aiosmtpd handler: refuses the first `refuse` messages with a temporary
    error (451), then accepts and keeps them."""

    refuse: int = 0
    received: list[Envelope] = field(default_factory=list)
    refused: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        with self._lock:
            if self.refused < self.refuse:
                self.refused += 1
                return "451 4.3.0 Temporarily unable to accept the message"
            self.received.append(envelope)
        return "250 OK"

    def messages(self) -> list[EmailMessage]:
        with self._lock:
            raw = [envelope.original_content or b"" for envelope in self.received]
        return [
            email.message_from_bytes(content, policy=email.policy.default)  # type: ignore[misc]
            for content in raw
        ]

    async def wait_for(self, count: int, *, within: float = 10.0) -> None:
        deadline = time.monotonic() + within
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"{len(self.received)} of {count} e-mails arrived"
            await asyncio.sleep(0.05)


@dataclass
class SmtpServer:
    recorder: SmtpRecorder
    port: int

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A local SMTP server on a free port; set `.recorder.refuse` to fail first."""
    recorder = SmtpRecorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(recorder, port)
    finally:
        controller.stop()
