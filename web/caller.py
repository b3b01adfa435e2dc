"""Who is calling, and whether they may go on: the one preamble of /graphql and
/media. Identify (a bearer token, or anonymous) -> 401 for credentials that are not
valid -> the per-caller rate limit -> 429 -> for uploads, the right to upload -> 401
or 403, refused before the body is read (nobody else may make us receive a file)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from cms.errors import Code
from cms.runtime import Runtime
from cms.services import auth
from cms.services.permissions import Action, allowed
from cms.services.ratelimit import hit_request_limit
from cms.services.viewer import Viewer
from web.responses import error_response, invalid_token, rate_limited


async def admit(request: Request, runtime: Runtime, *, upload: bool) -> Viewer | Response:
    """The caller, or the answer that refuses them."""
    settings = runtime.settings
    headers = request.headers
    viewer = await auth.identify(
        headers.get("authorization"),
        request.client.host if request.client else None,
        headers.get("x-forwarded-for"),
        settings,
    )
    if viewer is None:
        return invalid_token()
    decision = await hit_request_limit(runtime.limiter, viewer, settings)
    if not decision.allowed:
        return rate_limited(decision.retry_after)
    if upload and not allowed(viewer, Action.UPLOAD_MEDIA):
        if viewer.is_anonymous:
            return error_response(
                401, "Загрузка файла: нужно войти в систему.", Code.UNAUTHENTICATED
            )
        return error_response(403, "Загрузка файла: недостаточно прав.", Code.FORBIDDEN)
    return viewer
