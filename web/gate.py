"""What a request to /graphql must satisfy before anything else is done with it
(before the caller is identified, the body read or any SQL run): the method, the
body's content type and the CSRF header of uploads. One more rule is checked as the
body is decoded, before any operation runs: one operation per request.

Why these rules: a browser sends a cross-site <form> (urlencoded, multipart or
text/plain) and a GET without asking the server first; it sends a JSON body or a
custom header only after a CORS preflight, which CORSMiddleware refuses to other
sites. So POST bodies are JSON, multipart uploads carry the header that media
uploads require (web/requests.py), and a GET can only read: its mutations are
refused.

The view renders a refusal with its `error_response`, as every answer given
before execution.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import GraphQLError, OperationType, get_operation_ast
from starlette.requests import Request

from cms.settings import Settings
from graphql_schema.limits import parse_within_limits
from web.requests import csrf_problem, is_multipart

METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
CSRF_HEADER_REQUIRED = "CSRF_HEADER_REQUIRED"
BATCHING_NOT_SUPPORTED = "BATCHING_NOT_SUPPORTED"


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    message: str
    code: str
    headers: dict[str, str] = field(default_factory=dict)


class RefusedError(Exception):
    """A refusal found while Strawberry reads the request (a batch)."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


def check_request(request: Request, settings: Settings) -> Refusal | None:
    """Why the request is refused, or None. Reads headers and the query string only."""
    if request.method == "GET":
        return _check_get(request, settings)
    if request.method != "POST":
        return None  # the route answers 405 itself; CORS preflights never get here
    content_type = request.headers.get("content-type")
    if is_multipart(content_type):
        problem = csrf_problem(request.headers)
        return None if problem is None else Refusal(400, problem, CSRF_HEADER_REQUIRED)
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type == "application/json":
        return None
    shown = media_type or "не указан"
    return Refusal(
        415,
        f"Тип тела запроса {shown} не принимается: отправляйте GraphQL-запрос как "
        "application/json (файлы — как multipart/form-data с заголовком "
        "GraphQL-Require-Preflight).",
        UNSUPPORTED_MEDIA_TYPE,
    )


def _check_get(request: Request, settings: Settings) -> Refusal | None:
    """A GET may only read. The document is parsed here (within the limits, through
    their cache, so the operation's own parse is then free) to find the operation's
    type; what cannot be parsed is left to the usual error path."""
    query = request.query_params.get("query")
    if not query:
        return None
    try:
        document = parse_within_limits(query, settings)
    except GraphQLError:
        return None
    operation = get_operation_ast(document, request.query_params.get("operationName"))
    if operation is None or operation.operation is OperationType.QUERY:
        return None
    return GET_ONLY_READS


# Also answered when a persisted (hash-only) GET names a mutation: the text is known
# only after the gate, and Strawberry refuses it then (see the view).
GET_ONLY_READS = Refusal(
    405,
    "Изменения (mutation) и подписки принимаются только методом POST с телом application/json.",
    METHOD_NOT_ALLOWED,
    {"allow": "POST"},
)


def single_operation(data: object) -> object:
    """A JSON body with a list of operations is a batch, which this API does not run:
    one operation per request keeps every limit, rate limit and cache per operation."""
    if isinstance(data, list):
        raise RefusedError(
            Refusal(
                400,
                "Пакетные запросы (массив операций) не поддерживаются: отправляйте одну "
                f"операцию в запросе (получено операций: {len(data)}).",
                BATCHING_NOT_SUPPORTED,
            )
        )
    return data
