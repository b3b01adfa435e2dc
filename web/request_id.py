"""The outermost middleware: the request's id, and its count in the metrics.

An incoming `X-Request-ID` (from a proxy or a client following a request across
services) is kept when it is short and made of safe characters, otherwise one is
made. It is returned in the `X-Request-ID` header, set in `cms.observability.
request_id` for every log line of the request (web/logs.py) and kept in the scope
for masked error answers (web/app.py). Outermost, so fast-lane hits get an id and
are counted too: per request it costs a header scan, a context variable and, with
metrics on, a counter and two histogram observations.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cms.observability import request_id

if TYPE_CHECKING:
    # Imported by web/app.py only when metrics are on (prometheus-client with it).
    from web.metrics import Metrics

HEADER = b"x-request-id"
SCOPE_KEY = "cms.request_id"
# Keys of the ASGI scope the inner layers fill in for the count of the request.
OPERATION = "cms.operation"  # the GraphQL operation's name (fast lane, view)
CACHE = "cms.cache"  # "hit" or "miss" of the response cache (fast lane, view)
STATEMENTS = "cms.statements"  # SQL statements of the request (access log)
# Letters, digits and - _ . : (UUIDs, hex ids, "trace:span"), 1 to 128 of them: safe in
# a log line and a header whatever the caller sends.
_SAFE = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")


def _incoming(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == HEADER:
            return value.decode("ascii") if _SAFE.fullmatch(value) else None
    return None


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics | None) -> None:
        self.app = app
        self.metrics = metrics
        # Ids made here: random per process, then a counter (unique without the cost
        # of random bytes per request), 32 hex digits like a UUID without dashes.
        self._prefix = secrets.token_hex(10)
        self._made = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = _incoming(scope) or f"{self._prefix}{next(self._made):012x}"
        scope[SCOPE_KEY] = rid
        token = request_id.set(rid)
        header = (HEADER, rid.encode("ascii"))
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            # Kept set: Starlette's handler of unexpected errors, outside this
            # middleware, logs with it (the server runs each request in a task of its
            # own, so it goes no further).
            self._count(scope, status, started)
            raise
        self._count(scope, status, started)
        request_id.reset(token)

    def _count(self, scope: Scope, status: int, started: float) -> None:
        if self.metrics is not None:
            self.metrics.observe(
                scope["path"],
                scope["method"],
                status,
                time.perf_counter() - started,
                scope.get(OPERATION),
                scope.get(CACHE),
                scope.get(STATEMENTS, 0),
            )
