"""What a request to /graphql must satisfy before anything else is done with it
(before the caller is identified, the body read or any SQL run): the method, the
body's content type and the CSRF header of uploads.

Why these rules: a browser sends a cross-site <form> (urlencoded, multipart or
text/plain) and a GET without asking the server first; it sends a JSON body or a
custom header only after a CORS preflight, which CORSMiddleware refuses to other
sites. So POST bodies are JSON, multipart uploads carry the header that media
uploads require (web/requests.py), and a GET can only read: its mutations are
refused (by the view, once the operation is known: see `get_only_reads`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from cms.errors import Code
from web.requests import csrf_problem, is_multipart
from web.responses import error_response, method_not_allowed


def check_request(request: Request) -> Response | None:
    """The refusal of the request, or None. Reads headers only."""
    method = request.method
    if method == "GET":
        return None
    if method != "POST":
        return method_not_allowed(
            f"Метод {method} не поддерживается: GraphQL-запросы принимаются методами GET и POST.",
            "GET, POST",
        )
    content_type = request.headers.get("content-type")
    if is_multipart(content_type):
        problem = csrf_problem(request.headers)
        return None if problem is None else error_response(400, problem, Code.CSRF_HEADER_REQUIRED)
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type == "application/json":
        return None
    shown = media_type or "не указан"
    return error_response(
        415,
        f"Тип тела запроса {shown} не принимается: отправляйте GraphQL-запрос как "
        "application/json (файлы — как multipart/form-data с заголовком "
        "GraphQL-Require-Preflight).",
        Code.UNSUPPORTED_MEDIA_TYPE,
    )


def get_only_reads() -> Response:
    """A GET naming a mutation (by its text or a persisted query's hash)."""
    return method_not_allowed(
        "Изменения (mutation) и подписки принимаются только методом POST с телом application/json.",
        "POST",
    )
