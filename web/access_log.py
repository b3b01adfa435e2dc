"""The access log: one line per request (method, path, status, milliseconds, SQL
statements), from the middleware for everything the application answers and from
the fast lane for the cache hits it answers before the middleware. The query string
is left out: it may carry personal data."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cms.db import count_statements
from web.request_id import STATEMENTS

access_logger = logging.getLogger("cms.access")


def log_request(method: str, path: str, status: int, started: float, statements: int) -> None:
    if not access_logger.isEnabledFor(logging.INFO):
        return  # the line's fields not built for nothing (a cache hit is ~50 µs)
    milliseconds = round((time.perf_counter() - started) * 1000, 1)
    access_logger.info(
        "%s %s %s %.1fms sql=%d",
        method,
        path,
        status,
        milliseconds,
        statements,
        # The same as fields, for JSON log lines (web/logs.py).
        extra={
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": milliseconds,
            "sql": statements,
        },
    )


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp, *, sql_count_header: bool, log_lines: bool) -> None:
        self.app = app
        self.sql_count_header = sql_count_header
        # CMS_ACCESS_LOG=off: behind a proxy that logs already, a line costs ~20 µs.
        self.log_lines = log_lines

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        with count_statements() as statements:

            async def send_with_count(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    if self.sql_count_header:
                        headers = list(message.get("headers", []))
                        headers.append((b"x-sql-count", str(len(statements)).encode()))
                        message = {**message, "headers": headers}
                await send(message)

            try:
                await self.app(scope, receive, send_with_count)
            finally:
                scope[STATEMENTS] = len(statements)  # for the metrics (web/request_id.py)
                if self.log_lines:
                    log_request(scope["method"], scope["path"], status, started, len(statements))
