"""The Starlette application: routes, middleware and lifespan, assembled in one place."""

from __future__ import annotations

import contextlib
import gc
import logging
import secrets
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from tortoise.connection import get_connection
from tortoise.contrib.starlette import RegisterTortoise

from cms.db import install_statement_counter, tortoise_config
from cms.errors import Code
from cms.observability import hooks, report_unexpected
from cms.runtime import Runtime
from cms.services.redis_guard import redis_status
from cms.settings import Settings, load_settings
from graphql_schema.schema import schema
from media.service import close_media, media_for, media_problem, start_media
from web.access_log import AccessLogMiddleware
from web.body_limit import BodyLimitMiddleware
from web.cors import CORS
from web.fast_lane import FastLane
from web.feeds import Syndication
from web.lifecycle import Draining, scheduled_publications, watch_signals
from web.media import media_routes
from web.request_id import SCOPE_KEY as REQUEST_ID
from web.request_id import RequestIdMiddleware
from web.requests import PREFLIGHT_HEADERS
from web.response_cache import ResponseCache
from web.responses import error_response, method_not_allowed, not_found
from web.subscriptions import SubscriptionEndpoint
from web.view import GraphQLView

logger = logging.getLogger("cms.server")


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready (200) when the database answers and files can be written to the media
    root; else 503. Without Redis the process still answers every request correctly,
    only with per-process limits and no shared cache: it says "degraded" but stays
    ready. Every process shares the one Redis, so taking them out of rotation for it
    would turn a slower API into none. A stopping process is "draining" (503)."""
    if request.app.state.draining.active:
        return JSONResponse({"status": "draining"}, status_code=503)
    body = {"status": "ok", "database": "ok", "media": "ok"}
    try:
        await get_connection("default").execute_query("SELECT 1")
    except Exception:
        hooks.database_error()
        logger.exception("readiness check failed")
        body["database"] = "error"
    runtime = request.app.state.runtime
    problem = await media_problem(media_for(runtime.settings))
    if problem is not None:
        logger.error("readiness check failed: media storage: %s", problem)
        body["media"] = "error"
    if "error" in body.values():
        body["status"] = "unavailable"
        return JSONResponse(body, status_code=503)
    if runtime.redis is not None:
        body["redis"] = await redis_status(runtime.redis)
        if body["redis"] != "ok":
            body["status"] = "degraded"
    return JSONResponse(body)


async def _http_error(request: Request, error: Exception) -> Response:
    """Starlette's own refusals (no such route, a method a route does not take) in
    the one error shape."""
    assert isinstance(error, HTTPException)
    if error.status_code == 405:
        allow = (error.headers or {}).get("Allow", "GET, POST")
        return method_not_allowed(f"Метод {request.method} здесь не поддерживается.", allow)
    if error.status_code == 404:
        return not_found()
    return error_response(error.status_code, "Запрос не может быть обработан.", Code.BAD_REQUEST)


async def _internal_error(request: Request, error: Exception) -> Response:
    """A failure no check foresaw: logged with its traceback under an id that the
    caller sees, never the details."""
    error_id = secrets.token_hex(8)
    report_unexpected(error)
    logger.error(
        "unexpected error %s on %s %s", error_id, request.method, request.url.path, exc_info=error
    )
    # Answered outside the request-id middleware: the header is set here.
    request_id = request.scope.get(REQUEST_ID, "-")
    return error_response(
        500,
        f"Внутренняя ошибка сервера. Код ошибки: {error_id}.",
        Code.INTERNAL_SERVER_ERROR,
        headers={"x-request-id": request_id},
        errorId=error_id,
        requestId=request_id,
    )


def create_app(settings: Settings | None = None, *, manage_database: bool = True) -> Starlette:
    """The application. Tests pass `manage_database=False` and bring their own database."""
    settings = settings or load_settings()
    install_statement_counter()
    runtime = Runtime.create(settings)
    # Public responses and APQ documents: in process, or in Redis when configured.
    cache = ResponseCache.create(settings, runtime.redis)
    metrics = None
    if settings.metrics:
        # prometheus-client is loaded only by processes that serve metrics.
        from web.metrics import Metrics

        metrics = Metrics(settings)
        metrics.register_hooks()
    draining = Draining()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Stale staged uploads swept; an unwritable media root logged (and /readyz
        # reports it) without stopping reads.
        await start_media(media_for(settings))
        restore_signals = watch_signals(draining)
        try:
            if manage_database:
                async with (
                    RegisterTortoise(app, config=tortoise_config(settings.database_url)),
                    runtime.background(),
                    scheduled_publications(runtime.live),
                ):
                    # Everything loaded so far (modules, the schema) lives as long as the
                    # process: out of the collector's way, full collections stay short.
                    gc.freeze()
                    yield
            else:
                async with runtime.background(), scheduled_publications(runtime.live):
                    yield
        finally:
            await close_media(media_for(settings))
            # Background tasks stopped (claims given back) and the database closed
            # above; then Redis.
            await runtime.close()
            restore_signals()
            if metrics is not None:
                metrics.process_exited()

    graphql = GraphQLView(schema, runtime, cache)
    subscriptions = SubscriptionEndpoint(schema, runtime)
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            # GraphQL subscriptions: graphql-transport-ws over WebSocket.
            WebSocketRoute("/graphql", subscriptions),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            *([Route("/metrics", metrics.endpoint, methods=["GET"])] if metrics else []),
            *media_routes(runtime),  # POST /media, GET /media/...
            *(graphql.graphiql.routes() if settings.graphiql else []),  # GET /graphiql-assets/...
            # /feeds/..., /sitemap.xml, /sitemaps/...
            *Syndication(settings, cache).routes(),
        ],
        middleware=[
            # The request's id (kept from X-Request-ID or made) for its log lines and its
            # answer, and its count in the metrics; outermost, so cache hits have both.
            Middleware(RequestIdMiddleware, metrics=metrics),
            # Anonymous response-cache hits, answered first (no routing, no GraphQL, no
            # other middleware): it logs them itself, keeps under the body limit and
            # leaves browsers' cross-origin requests (Origin) to the CORS middleware.
            Middleware(
                FastLane,
                runtime=runtime,
                cache=cache,
                sql_count_header=not settings.is_production,
            ),
            Middleware(
                AccessLogMiddleware,
                sql_count_header=not settings.is_production,
                log_lines=settings.access_log,
            ),
            # Outside the other checks, so that browsers can read their refusals too.
            # Bearer tokens, no cookies: credentials stay off.
            Middleware(
                CORS,
                allow_origins=settings.cors_allowed_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["content-type", "authorization", *PREFLIGHT_HEADERS],
                expose_headers=["etag", "x-request-id"],
                max_age=600,
            ),
            # Instead of Starlette's max_body_size: the same limit, refused with a reason.
            Middleware(BodyLimitMiddleware, settings=settings),
        ],
        exception_handlers={HTTPException: _http_error, Exception: _internal_error},
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.response_cache = cache
    app.state.draining = draining
    app.state.subscriptions = subscriptions
    return app
