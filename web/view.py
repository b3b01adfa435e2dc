"""The HTTP endpoint of the schema: who is calling, per-caller rate limits, the
context per request, JSON encoding, GraphiQL, multipart uploads, persisted queries,
the response cache and HTTP caching (see persisted.py and http_cache.py; cache hits
of anonymous callers are answered earlier, in fast_lane.py). What every request must
satisfy first (method, content type, CSRF header, one operation) is in gate.py."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.schema import BaseSchema
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types.unset import UNSET

from cms.runtime import Runtime
from cms.services import auth
from cms.services.permissions import Action, allowed
from cms.services.ratelimit import hit_request_limit
from cms.services.viewer import Viewer
from graphql_schema.context import Context
from graphql_schema.errors import FORBIDDEN, UNAUTHENTICATED
from graphql_schema.permissions import denied
from web import gate, http_cache
from web.graphiql.page import GraphiQLPage
from web.http_cache import CacheState, current_state
from web.persisted import PersistedQueries, PersistedQueryError
from web.requests import is_multipart
from web.response_cache import (
    PUBLIC_SCOPE,
    CachedResponse,
    cache_key,
    canonical_variables,
)

logger = logging.getLogger("cms.cache")


def error_response(status: int, message: str, code: str, **headers: str) -> Response:
    """A GraphQL-shaped error answered before execution (a client reads `errors` either way)."""
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


def rate_limited_response(retry_after: int) -> Response:
    return error_response(
        429,
        f"Слишком много запросов. Повторите через {retry_after} с.",
        "RATE_LIMITED",
        **{"retry-after": str(retry_after)},
    )


def _refusal_response(refusal: gate.Refusal) -> Response:
    return error_response(refusal.status, refusal.message, refusal.code, **refusal.headers)


async def _refuse(refusal: gate.Refusal, scope: Scope, receive: Receive, send: Send) -> None:
    await _refusal_response(refusal)(scope, receive, send)


class _EarlyAnswerError(Exception):
    """Raised from inside Strawberry's request handling to answer without executing:
    a cached response or a persisted-query error."""

    def __init__(self, response: Response) -> None:
        self.response = response


# The caller of the request being handled, for the hooks Strawberry calls without it.
_viewer: ContextVar[Viewer | None] = ContextVar("cms_view_viewer", default=None)


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, schema: BaseSchema, runtime: Runtime) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if runtime.settings.graphiql else None,
            multipart_uploads_enabled=True,  # uploadMedia; CSRF checked in __call__
        )
        self.runtime = runtime
        self.cache = runtime.response_cache
        self.persisted = PersistedQueries(runtime.response_cache, runtime.settings)
        # Served when CMS_GRAPHIQL is on (graphql_ide above): our page, not Strawberry's.
        self.graphiql = GraphiQLPage()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        settings = self.runtime.settings
        # Method, content type, CSRF header: before identifying the caller or reading the body.
        if (refusal := gate.check_request(request, settings)) is not None:
            await _refuse(refusal, scope, receive, send)
            return
        upload = request.method == "POST" and is_multipart(request.headers.get("content-type"))
        viewer = await auth.identify(
            request.headers.get("authorization"),
            request.client.host if request.client else None,
            request.headers.get("x-forwarded-for"),
            settings,
        )
        if viewer is None:
            response = error_response(
                401,
                "Токен недействителен, истёк или отозван. Войдите снова.",
                UNAUTHENTICATED,
                **{"www-authenticate": 'Bearer error="invalid_token"'},
            )
            await response(scope, receive, send)
            return
        decision = await hit_request_limit(self.runtime.limiter, viewer, settings)
        if not decision.allowed:
            await rate_limited_response(decision.retry_after)(scope, receive, send)
            return
        if upload and not allowed(viewer, Action.UPLOAD_MEDIA):
            # Refused before the body is read: nobody else may make us receive a file.
            denial = denied(viewer, "Загрузка файла")
            status, code = (401, UNAUTHENTICATED) if viewer.is_anonymous else (403, FORBIDDEN)
            await error_response(status, denial.message, code)(scope, receive, send)
            return
        scope.setdefault("state", {})["viewer"] = viewer
        try:
            await super().__call__(scope, receive, send)
        except gate.RefusedError as refused:  # raised before anything was sent
            await _refuse(refused.refusal, scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        return gate.single_operation(super().decode_json(data))

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A persisted-query GET has no `query` parameter: it is an operation, not a
        # browser asking for GraphiQL.
        return "extensions" not in request.query_params and super().should_render_graphql_ide(
            request
        )

    async def run(  # type: ignore[override]
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Any:
        if not isinstance(request, Request):
            return await super().run(request, context, root_value)
        viewer_token = _viewer.set(request.state.viewer)
        state_token = current_state.set(None)
        try:
            try:
                response = await super().run(request, context, root_value)
            except HTTPException as refused:
                if not isinstance(refused.__cause__, InvalidOperationTypeError):
                    raise
                # A hash-only GET naming a persisted mutation: refused as the gate
                # refuses a GET with the mutation's text.
                refusal = _refusal_response(gate.GET_ONLY_READS)
                refusal.headers["cache-control"] = http_cache.PRIVATE.decode()
                return refusal
            except _EarlyAnswerError as answer:
                if "cache-control" not in answer.response.headers:
                    # e.g. PersistedQueryNotFound: a CDN keeping it would stop registration.
                    answer.response.headers["cache-control"] = http_cache.PRIVATE.decode()
                return answer.response
            return await self._cache_response(request, response)
        finally:
            current_state.reset(state_token)
            _viewer.reset(viewer_token)

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        viewer = _viewer.get()
        if isinstance(data, list) or viewer is None:
            return data
        try:
            resolved = await self.persisted.resolve(data.query, data.extensions, viewer)
        except PersistedQueryError as problem:
            raise _EarlyAnswerError(
                error_response(problem.status, problem.message, problem.code)
            ) from None
        data.query = resolved.query
        if resolved.doc_hash is None or viewer.visibility_scope != PUBLIC_SCOPE:
            return data  # staff and read-drafts tokens never touch the shared cache
        if data.protocol != "http" or is_multipart(request.content_type):
            return data
        key = cache_key(resolved.doc_hash, canonical_variables(data.variables), data.operation_name)
        try:
            entry, generation = await self.cache.lookup(key)
        except Exception:
            # Redis unreachable: answer uncached rather than fail the read.
            logger.exception("response cache lookup failed; answering without the cache")
            return data
        if entry is not None:
            raise _EarlyAnswerError(
                self._public_response(entry, request.method, viewer, request.headers)
            )
        current_state.set(CacheState(key if self.cache.enabled else None, generation))
        return data

    async def _cache_response(self, request: Request, response: Response) -> Response:
        """Stores a successful public query and sets the caching headers: public for
        anonymous GETs, private otherwise."""
        state = current_state.get()
        cacheable = (
            state is not None
            and state.is_query
            and state.succeeded
            and not state.private
            and response.status_code == 200
            and isinstance(getattr(response, "body", None), bytes)
        )
        public_get = request.method == "GET" and request.state.viewer.is_anonymous
        if not cacheable or (state is not None and state.key is None and not public_get):
            response.headers["cache-control"] = http_cache.PRIVATE.decode()
            return response
        assert state is not None
        try:
            entry = await self.cache.entry_for(
                bytes(response.body), http_cache.surrogate_keys(state.keys), state.generation
            )
            if state.key is not None:
                await self.cache.put(state.key, entry)
        except Exception:
            logger.exception("response cache write failed; answered without caching")
            response.headers["cache-control"] = http_cache.PRIVATE.decode()
            return response
        return self._public_response(entry, request.method, request.state.viewer, request.headers)

    def _public_response(
        self, entry: CachedResponse, method: str, viewer: Viewer, headers: Mapping[str, str]
    ) -> Response:
        if method != "GET" or not viewer.is_anonymous:
            response = Response(entry.body, media_type="application/json")
            response.headers["cache-control"] = http_cache.PRIVATE.decode()
            return response
        raw = http_cache.public_headers(entry, self.runtime.settings)
        if http_cache.not_modified(headers.get("if-none-match"), entry.etag):
            response = Response(status_code=304)
            response.headers.raw.extend(raw)
            return response
        response = Response(entry.body, media_type="application/json")
        response.headers.raw.extend(raw)
        return response

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        return Context(
            runtime=self.runtime,
            viewer=request.state.viewer,
            request=request,  # type: ignore[arg-type]
        )

    def encode_json(self, data: object) -> bytes:  # type: ignore[override]
        return orjson.dumps(data)

    async def render_graphql_ide(self, request: Request) -> Response:
        return self.graphiql.response()
