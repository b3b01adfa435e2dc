"""The answers the edge gives before or outside GraphQL execution, in one shape:

    {"errors": [{"message": "<Russian>", "extensions": {"code": "...", ...}}]}

with the HTTP status that says what happened (400, 401, 403, 404, 405, 413, 415,
429, 503 ...). A GraphQL client reads `errors` whatever the status; the codes are
cms.errors.Code. Every refusal of /graphql, /media and the middleware is made here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

from cms.errors import Code, FieldError

JSON = "application/json"
# Never guessed as something else by a browser; never kept by a shared cache.
_BASE_HEADERS = {"x-content-type-options": "nosniff", "cache-control": "private, no-store"}


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status, {**_BASE_HEADERS, **(headers or {})}, media_type=JSON
    )


def error_response(
    status: int,
    message: str,
    code: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    return json_response(status, body, headers)


def field_errors_response(status: int, errors: list[FieldError]) -> Response:
    """Problems with the input of a route (POST /media): one error per problem, its
    path into the input in `extensions.field`."""
    body = {
        "errors": [
            {
                "message": error.message,
                "extensions": {
                    "code": error.code,
                    "field": list(error.field) if error.field else None,
                },
            }
            for error in errors
        ]
    }
    return json_response(status, body)


def bad_request(message: str, code: str = Code.BAD_REQUEST) -> Response:
    return error_response(400, message, code)


def rate_limited(retry_after: int) -> Response:
    return error_response(
        429,
        f"Слишком много запросов. Повторите через {retry_after} с.",
        Code.RATE_LIMITED,
        headers={"retry-after": str(retry_after)},
        retryAfter=retry_after,
    )


def invalid_token() -> Response:
    return error_response(
        401,
        "Токен недействителен, истёк или отозван. Войдите снова.",
        Code.UNAUTHENTICATED,
        headers={"www-authenticate": 'Bearer error="invalid_token"'},
    )


def payload_too_large(message: str) -> Response:
    return error_response(413, message, Code.PAYLOAD_TOO_LARGE)


def not_found(message: str = "Такого адреса нет.") -> Response:
    return error_response(404, message, Code.NOT_FOUND)


def method_not_allowed(message: str, allow: str) -> Response:
    return error_response(405, message, Code.METHOD_NOT_ALLOWED, headers={"allow": allow})
