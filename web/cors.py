"""CORS (Starlette's middleware), with its refusal of a preflight in the one error
shape: a browser's developer tools then show the reason in Russian, with a code."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from cms.errors import Code
from web.responses import error_response

# Starlette names what it refused in English; the people reading it are ours.
_REFUSED = {
    "origin": "сайт-источник не в списке CMS_CORS_ORIGINS",
    "method": "метод (разрешены GET и POST)",
    "headers": "заголовки запроса",
    "private-network": "запрос в частную сеть",
}


class CORS(CORSMiddleware):
    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        failures = bytes(response.body).decode().removeprefix("Disallowed CORS ").split(", ")
        reasons = "; ".join(_REFUSED.get(failure, failure) for failure in failures)
        headers = {
            name: value
            for name, value in response.headers.items()
            if name not in ("content-type", "content-length")
        }
        return error_response(
            400,
            f"Браузерный запрос с другого сайта не разрешён (CORS): {reasons}.",
            Code.CORS_NOT_ALLOWED,
            headers=headers,
            refused=failures,
        )
