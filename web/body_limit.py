"""Request body limits, answered with a reason: the one place that bounds bodies.

Starlette's own `max_body_size` answers a bare text "Content Too Large" (and
replaces any earlier answer to a request that declares a larger body); a form or
a GraphQL client then cannot tell its user what happened. This middleware refuses
with a GraphQL-shaped 413 in Russian that names the limit: CMS_MAX_BODY_SIZE for
every request, the larger upload limit for file uploads (multipart POSTs to
/graphql and /media).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cms.settings import Settings
from media.library import too_large_message
from web.requests import is_multipart, upload_body_limit
from web.responses import payload_too_large


class _BodyTooLargeError(Exception):
    pass


UPLOAD_PATHS = frozenset({"/graphql", "/media"})


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.default = (
            settings.max_body_size,
            f"Запрос слишком большой: допускается не более {settings.max_body_size} байт. "
            "Сократите текст или отправьте файл меньшего размера.",
        )
        self.upload = (upload_body_limit(settings), too_large_message(settings))

    def _limit(self, scope: Scope, headers: Headers) -> tuple[int, str]:
        if (
            scope["method"] == "POST"
            and scope["path"] in UPLOAD_PATHS
            and is_multipart(headers.get("content-type"))
        ):
            return self.upload
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        max_bytes, message = self._limit(scope, headers)
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await payload_too_large(message)(scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise _BodyTooLargeError
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLargeError:
            if started:
                raise
            await payload_too_large(message)(scope, receive, send)
