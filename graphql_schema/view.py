"""The HTTP endpoint of the schema: context per request, JSON encoding, GraphiQL."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.schema import BaseSchema

from cms.services.viewer import ANONYMOUS
from cms.settings import Settings
from graphql_schema.context import Context

_DEFAULT_DOCUMENT = Path(__file__).with_name("graphiql_default.graphql")
_GRAPHIQL_EXAMPLE_MARKER = "const EXAMPLE_QUERY = `"


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, schema: BaseSchema, settings: Settings) -> None:
        super().__init__(schema, graphql_ide="graphiql" if settings.graphiql else None)
        self.settings = settings

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        return Context(settings=self.settings, viewer=ANONYMOUS, request=request)  # type: ignore[arg-type]

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
