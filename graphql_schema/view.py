"""The HTTP endpoint of the schema: who is calling, per-caller rate limits, the
context per request, JSON encoding, GraphiQL, multipart uploads; what every request
must satisfy first (method, content type, CSRF header, one operation) is in gate.py."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.schema import BaseSchema

from cms.runtime import Runtime
from cms.services import auth
from cms.services.permissions import Action, allowed
from cms.services.ratelimit import hit_request_limit
from graphql_schema import gate
from graphql_schema.context import Context
from graphql_schema.errors import FORBIDDEN, UNAUTHENTICATED
from graphql_schema.permissions import denied
from media.requests import is_multipart

_DEFAULT_DOCUMENT = Path(__file__).with_name("graphiql_default.graphql")
_GRAPHIQL_EXAMPLE_MARKER = "const EXAMPLE_QUERY = `"


def error_response(status: int, message: str, code: str, **headers: str) -> Response:
    """A GraphQL-shaped error answered before execution (a client reads `errors` either way)."""
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


async def _refuse(refusal: gate.Refusal, scope: Scope, receive: Receive, send: Send) -> None:
    response = error_response(refusal.status, refusal.message, refusal.code, **refusal.headers)
    await response(scope, receive, send)


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, schema: BaseSchema, runtime: Runtime) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if runtime.settings.graphiql else None,
            multipart_uploads_enabled=True,  # uploadMedia; CSRF checked in __call__
        )
        self.runtime = runtime

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
            response = error_response(
                429,
                f"Слишком много запросов. Повторите через {decision.retry_after} с.",
                "RATE_LIMITED",
                **{"retry-after": str(decision.retry_after)},
            )
            await response(scope, receive, send)
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

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        return Context(
            runtime=self.runtime,
            viewer=request.state.viewer,
            request=request,  # type: ignore[arg-type]
        )

    def encode_json(self, data: object) -> bytes:  # type: ignore[override]
        return orjson.dumps(data)

    @cached_property
    def graphql_ide_html(self) -> str:
        """Strawberry's GraphiQL page, opening on example queries over the seed content."""
        html = super().graphql_ide_html
        start = html.index(_GRAPHIQL_EXAMPLE_MARKER) + len(_GRAPHIQL_EXAMPLE_MARKER)
        end = html.index("`;", start)
        document = _DEFAULT_DOCUMENT.read_text(encoding="utf-8")
        escaped = document.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${")
        return html[:start] + escaped + html[end:]

    async def render_graphql_ide(self, request: Request) -> Response:
        return Response(self.graphql_ide_html, media_type="text/html")
