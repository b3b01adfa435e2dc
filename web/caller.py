"""Who is calling, and whether they may go on: the one preamble of /graphql, /media
and the subscriptions' connection_init. Identify (a bearer token, or anonymous) ->
401 for credentials that are not valid -> the per-caller rate limit -> 429 -> for
uploads, the right to upload -> 401 or 403, refused before the body is read (nobody
else may make us receive a file)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from cms.errors import Code
from cms.runtime import Runtime
from cms.services import auth
from cms.services.permissions import Action, allowed
from cms.services.ratelimit import hit_request_limit
from cms.services.viewer import Viewer
from web.responses import error_response, invalid_token, rate_limited


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a caller may not go on: 401 (credentials not valid) or 429 (rate limit)."""

    status: int
    retry_after: int = 0


async def identify_caller(
    authorization: str | None, peer: str | None, forwarded_for: str | None, runtime: Runtime
) -> Viewer | Refusal:
    """The caller of a request or a connection, counted against its rate limit."""
    settings = runtime.settings
    viewer = await auth.identify(authorization, peer, forwarded_for, settings)
    if viewer is None:
        return Refusal(401)
    decision = await hit_request_limit(runtime.limiter, viewer, settings)
    if not decision.allowed:
        return Refusal(429, decision.retry_after)
    return viewer


async def admit(request: Request, runtime: Runtime, *, upload: bool) -> Viewer | Response:
    """The caller, or the answer that refuses them."""
    headers = request.headers
    viewer = await identify_caller(
        headers.get("authorization"),
        request.client.host if request.client else None,
        headers.get("x-forwarded-for"),
        runtime,
    )
    if isinstance(viewer, Refusal):
        return invalid_token() if viewer.status == 401 else rate_limited(viewer.retry_after)
    if upload and not allowed(viewer, Action.UPLOAD_MEDIA):
        if viewer.is_anonymous:
            return error_response(
                401, "Загрузка файла: нужно войти в систему.", Code.UNAUTHENTICATED
            )
        return error_response(403, "Загрузка файла: недостаточно прав.", Code.FORBIDDEN)
    return viewer
