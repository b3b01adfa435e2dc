"""The Starlette application: routes, middleware and lifespan, assembled in one place.

`python server.py` serves it with uvicorn on CMS_HOST:CMS_PORT.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise.connection import get_connection
from tortoise.contrib.starlette import RegisterTortoise

from cms.db import count_statements, install_statement_counter, tortoise_config
from cms.runtime import Runtime
from cms.settings import Settings, load_settings
from graphql_schema.body_limit import BodyLimitMiddleware
from graphql_schema.fast_lane import FastLane
from graphql_schema.schema import schema
from graphql_schema.view import GraphQLView
from media.http import media_routes
from media.requests import PREFLIGHT_HEADERS

access_logger = logging.getLogger("cms.access")
logger = logging.getLogger("cms.server")


class AccessLogMiddleware:
    """One line per request: method, path, status, milliseconds, SQL statements.
    The query string is left out: it may carry personal data."""

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
                if self.log_lines:
                    access_logger.info(
                        "%s %s %s %.1fms sql=%d",
                        scope["method"],
                        scope["path"],
                        status,
                        (time.perf_counter() - started) * 1000,
                        len(statements),
                    )


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready when the database answers."""
    try:
        await get_connection("default").execute_query("SELECT 1")
    except Exception:
        logger.exception("readiness check failed")
        return JSONResponse({"status": "unavailable", "database": "error"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


def create_app(settings: Settings | None = None, *, manage_database: bool = True) -> Starlette:
    """The application. Tests pass `manage_database=False` and bring their own database."""
    settings = settings or load_settings()
    install_statement_counter()
    runtime = Runtime.create(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            if manage_database:
                async with (
                    RegisterTortoise(app, config=tortoise_config(settings.database_url)),
                    runtime.background(),
                ):
                    # Everything loaded so far (modules, the schema) lives as long as the
                    # process: out of the collector's way, full collections stay short.
                    gc.freeze()
                    yield
            else:
                async with runtime.background():
                    yield
        finally:
            await runtime.close()

    graphql = GraphQLView(schema, runtime)
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            *media_routes(runtime),  # POST /media, GET /media/...
        ],
        middleware=[
            Middleware(
                AccessLogMiddleware,  # type: ignore[arg-type]
                sql_count_header=not settings.is_production,
                log_lines=settings.access_log,
            ),
            # Outside the other checks, so that browsers can read their refusals too.
            # Bearer tokens, no cookies: credentials stay off.
            Middleware(
                CORSMiddleware,  # type: ignore[arg-type]
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["content-type", "authorization", *PREFLIGHT_HEADERS],
                expose_headers=["etag"],
                max_age=600,
            ),
            # Instead of Starlette's max_body_size: the same limit, refused with a reason.
            Middleware(BodyLimitMiddleware, settings=settings),  # type: ignore[arg-type]
            # Anonymous response-cache hits, answered before routing and GraphQL; inside
            # the access log, the body limit (and whatever headers outer middleware adds).
            Middleware(FastLane, runtime=runtime),  # type: ignore[arg-type]
        ],
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    return app


def main() -> None:
    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    uvicorn.run(
        "server:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        access_log=False,
        log_level=settings.log_level.lower(),
        loop="uvloop",
        http="httptools",
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
