"""The Starlette application: routes, middleware and lifespan, assembled in one place."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from tortoise.connection import get_connection
from tortoise.contrib.starlette import RegisterTortoise

from cms.db import install_statement_counter, tortoise_config
from cms.runtime import Runtime
from cms.services.redis_guard import redis_status
from cms.settings import Settings, load_settings
from graphql_schema.schema import schema
from web.access_log import AccessLogMiddleware
from web.body_limit import BodyLimitMiddleware
from web.fast_lane import FastLane
from web.media import media_routes
from web.requests import PREFLIGHT_HEADERS
from web.view import GraphQLView

logger = logging.getLogger("cms.server")


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready when the database answers (else 503). Without Redis the process still
    answers every request correctly, only with per-process limits and no shared
    cache: it says "degraded" but stays ready (200). Every process shares the one
    Redis, so taking them out of rotation for it would turn a slower API into none."""
    try:
        await get_connection("default").execute_query("SELECT 1")
    except Exception:
        logger.exception("readiness check failed")
        return JSONResponse({"status": "unavailable", "database": "error"}, status_code=503)
    answer = {"status": "ok", "database": "ok"}
    redis = request.app.state.runtime.redis
    if redis is not None:
        answer["redis"] = await redis_status(redis)
        if answer["redis"] != "ok":
            answer["status"] = "degraded"
    return JSONResponse(answer)


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
            # Anonymous response-cache hits, answered first (no routing, no GraphQL, no
            # other middleware): it logs them itself, keeps under the body limit and
            # leaves browsers' cross-origin requests (Origin) to the CORS middleware.
            Middleware(
                FastLane,  # type: ignore[arg-type]
                runtime=runtime,
                sql_count_header=not settings.is_production,
            ),
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
        ],
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    return app
