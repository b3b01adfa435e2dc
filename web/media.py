"""The media routes: POST /media (uploads for curl and scripts) and GET /media/...
(originals and renditions, streamed from storage).

Served files are content-addressed and never change under their URL, so they
carry a strong ETag and a year of `immutable` caching when anyone may see them
(media.access); files seen through a caller's rights (staff, read-drafts tokens)
are private, and a file nobody may see is answered as missing. Every response says
`nosniff` and a sandboxing Content-Security-Policy, so that even a file that
fooled the checks cannot run as a page of this origin.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from cms.errors import Code, FieldError, ValidationFailedError
from cms.models import MediaAsset
from cms.runtime import Runtime
from cms.services import auth
from cms.services.ids import encode_global_id
from cms.services.viewer import ANONYMOUS, Viewer
from media import library
from media.access import VisibleFile, visible_file
from media.faults import StorageFaultError
from media.filetypes import BY_EXTENSION
from media.form import FormError, read_upload_form
from media.renditions import parse_name, rendition_key
from media.service import Media, media_for, media_url
from media.staging import FileTooLargeError, staged_file
from media.storage import StorageUnavailableError
from web.caller import admit
from web.requests import csrf_problem, is_multipart
from web.responses import error_response, field_errors_response, json_response

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger("cms.media")
_ORIGINAL = re.compile(r"^([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})\.([a-z]{3,4})$")
_RENDITION = re.compile(r"^renditions/([0-9a-f]{2})/([0-9a-f]{64})/([a-z0-9x.-]{1,40})$")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
IMMUTABLE = "public, max-age=31536000, immutable"
# Seen through the caller's rights: the browser may keep it and ask again (ETag).
PRIVATE = "private, no-cache"
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; sandbox",
    # The front-end on its own origin (CMS_SITE_URL) embeds these files.
    "cross-origin-resource-policy": "cross-origin",
}


def media_routes(runtime: Runtime) -> list[Route]:
    media = media_for(runtime.settings)

    async def serve(request: Request) -> Response:
        try:
            return await _serve(request, media, request.path_params["key"], runtime.redis)
        except StorageUnavailableError as error:
            logger.error("media storage unavailable: %s", error)
            return error_response(
                503,
                "Хранилище файлов не отвечает: повторите запрос позже.",
                "STORAGE_UNAVAILABLE",
                headers={"cache-control": "no-store", "retry-after": "5"},
            )

    async def upload(request: Request) -> Response:
        # The body limit for uploads is the server's (see web/body_limit.py).
        return await _upload(request, media, runtime)

    return [
        Route("/media", upload, methods=["POST"]),
        Route("/media/{key:path}", serve, methods=["GET"]),
    ]


# ---------------------------------------------------------------- answers


def _error(status: int, code: str, message: str, field: list[str] | None = None) -> Response:
    return field_errors_response(
        status, [FieldError(tuple(field) if field else None, code, message)]
    )


def _validation_errors(error: ValidationFailedError) -> Response:
    codes = {item.code for item in error.errors}
    status = 413 if Code.TOO_LARGE in codes else 415 if Code.UNSUPPORTED_TYPE in codes else 422
    return field_errors_response(status, error.errors)


def asset_json(asset: MediaAsset, media: Media) -> dict[str, Any]:
    return {
        "id": encode_global_id("MediaAsset", asset.pk),
        "url": media_url(media.settings, asset.storage_key),
        "fileName": asset.file_name,
        "mimeType": asset.mime_type,
        "size": asset.size,
        "width": asset.width,
        "height": asset.height,
        "alt": asset.alt,
        "caption": asset.caption,
        "credit": asset.credit,
        "placeholder": asset.placeholder,
    }


# ---------------------------------------------------------------- POST /media


async def _upload(request: Request, media: Media, runtime: Runtime) -> Response:
    problem = csrf_problem(request.headers)
    if problem is not None:
        return error_response(400, problem, Code.CSRF_HEADER_REQUIRED)
    content_type = request.headers.get("content-type", "")
    if not is_multipart(content_type):
        return error_response(
            415, "Отправьте файл формой multipart/form-data.", Code.UNSUPPORTED_MEDIA_TYPE
        )
    caller = await admit(request, runtime, upload=True)
    if isinstance(caller, Response):
        return caller
    try:
        return await _store_upload(request, media, content_type)
    except StorageFaultError as fault:
        return _error(fault.status, fault.code, fault.message, ["file"])


async def _store_upload(request: Request, media: Media, content_type: str) -> Response:
    settings = media.settings
    async with staged_file(media.storage.staging_dir, settings.media_max_bytes) as staged:
        try:
            form = await read_upload_form(content_type, request.stream(), staged)
        except FileTooLargeError:
            return _error(413, Code.TOO_LARGE, library.too_large_message(settings), ["file"])
        except FormError as error:
            return _error(400, Code.INVALID, error.message)
        except ClientDisconnect:
            return _error(400, Code.INVALID, "Соединение прервалось до конца загрузки.")
        if not form.has_file:
            return _error(422, Code.REQUIRED, "Приложите файл в поле «file».", ["file"])
        try:
            asset = await library.create_asset(
                media, staged, file_name=form.file_name, texts=form.texts, field=()
            )
        except ValidationFailedError as error:
            return _validation_errors(error)
    location = media_url(settings, asset.storage_key)
    return json_response(201, asset_json(asset, media), {"location": location})


# ---------------------------------------------------------------- GET /media/...


def _not_found() -> Response:
    # Never kept by a shared cache: the file may exist, or become public, later.
    return error_response(
        404, "Такого файла нет.", Code.NOT_FOUND, headers={"cache-control": "no-store"}
    )


async def _caller(request: Request, media: Media) -> Viewer:
    """Who asks for a file that is not public; a bad token counts as none."""
    authorization = request.headers.get("authorization")
    if not authorization:
        return ANONYMOUS
    viewer = await auth.identify(
        authorization,
        request.client.host if request.client else None,
        request.headers.get("x-forwarded-for"),
        media.settings,
    )
    return viewer or ANONYMOUS


async def _serve(request: Request, media: Media, key: str, redis: Redis | None) -> Response:
    original = _ORIGINAL.match(key)
    if original is not None:
        first, second, sha256, extension = original.groups()
        kind = BY_EXTENSION.get(extension)
        if kind is None or (first, second) != (sha256[:2], sha256[2:4]):
            return _not_found()
        found = await visible_file(sha256, lambda: _caller(request, media))
        if found is None:
            return _not_found()
        headers = {"content-type": kind.mime, "etag": f'"{sha256}"'}
        if kind.is_image:
            headers["content-disposition"] = "inline"
        else:
            headers["content-disposition"] = _attachment(found.asset.file_name)
        return await _file_response(request, media, key, headers, found)
    rendition = _RENDITION.match(key)
    if rendition is not None:
        prefix, sha256, name = rendition.groups()
        spec = parse_name(name, media.settings)
        if spec is None or prefix != sha256[:2]:
            return _not_found()
        found = await visible_file(sha256, lambda: _caller(request, media), image=True)
        if found is None:
            return _not_found()
        source = found.asset
        stored_key = rendition_key(sha256, spec)
        if not await media.storage.exists(stored_key):
            if source.height is None or source.width is None:
                return _not_found()
            try:
                await media.renditions.ensure(
                    source.storage_key, sha256, spec, (source.width, source.height), redis
                )
            except FileNotFoundError:
                return _not_found()
            except StorageUnavailableError:
                raise
            except (OSError, ValueError):
                logger.exception("rendition %s of %s failed", spec.name, source.storage_key)
                return error_response(
                    500, "Не удалось подготовить изображение.", Code.RENDITION_FAILED
                )
        headers = {
            "content-type": spec.format.mime,
            "etag": f'"{sha256}-{spec.name}"',
            "content-disposition": "inline",
        }
        return await _file_response(request, media, stored_key, headers, found)
    return _not_found()


def _attachment(file_name: str) -> str:
    """Documents are downloaded, never shown in the API's origin, under their
    original name (of the first visible asset with these bytes)."""
    fallback = re.sub(r"[^A-Za-z0-9._-]", "_", file_name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name)}"


async def _file_response(
    request: Request, media: Media, key: str, headers: dict[str, str], found: VisibleFile
) -> Response:
    direct = await media.storage.direct_url(
        key, headers["content-type"], headers["content-disposition"]
    )
    if direct is not None:
        # CMS_S3_PRESIGN=on: the bucket serves the bytes; a public redirect may be
        # kept for half the URL's life, a private one not at all.
        seconds = media.settings.s3_presign_seconds // 2
        caching = f"public, max-age={seconds}" if found.public else "private, no-store"
        return Response(
            status_code=307,
            headers={**SECURITY_HEADERS, "location": direct, "cache-control": caching},
        )
    size = await media.storage.size(key)
    if size is None:
        return _not_found()
    caching = IMMUTABLE if found.public else PRIVATE
    headers = {**headers, **SECURITY_HEADERS, "cache-control": caching, "accept-ranges": "bytes"}
    if _etag_matches(request.headers.get("if-none-match"), headers["etag"]):
        kept = ("etag", "cache-control", "content-security-policy", "x-content-type-options")
        return Response(status_code=304, headers={k: headers[k] for k in kept})
    start, end, status = 0, size, 200
    wanted = request.headers.get("range")
    if wanted and request.headers.get("if-range", headers["etag"]) == headers["etag"]:
        parsed = _parse_range(wanted, size)
        if isinstance(parsed, str):  # "unsatisfiable"
            return Response(
                status_code=416, headers={**SECURITY_HEADERS, "content-range": f"bytes */{size}"}
            )
        if parsed is not None:
            start, end = parsed
            status = 206
            headers["content-range"] = f"bytes {start}-{end - 1}/{size}"
    headers["content-length"] = str(end - start)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers)
    return StreamingResponse(media.storage.read(key, start, end), status, headers)


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in candidates


def _parse_range(header: str, size: int) -> tuple[int, int] | Literal["unsatisfiable"] | None:
    """(start, end exclusive) of a single byte range; "unsatisfiable"; None to ignore
    the header (other units, several ranges, bad syntax: the whole file is sent)."""
    match = _RANGE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        suffix = int(last)
        if suffix == 0:
            return "unsatisfiable"
        return max(0, size - suffix), size
    start = int(first)
    end = size if not last else min(size, int(last) + 1)
    if last and int(last) < start:
        return None
    if start >= size:
        return "unsatisfiable"
    return start, end
