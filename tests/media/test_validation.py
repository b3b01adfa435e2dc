"""Bad uploads: each gets a clear error, through both routes, and leaves no file behind."""

import io
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from cms.models import MediaAsset
from tests.conftest import TestDatabase, use_api_token
from tests.media.conftest import (
    MediaApp,
    jpeg_with_gps,
    make_media_app,
    pdf_document,
    png_image,
)

ROUTES = ["graphql", "http"]


async def upload_errors(
    app: MediaApp, route: str, content: bytes, name: str, **texts: Any
) -> list[dict[str, Any]]:
    """The errors of an upload that must fail, in one shape for both routes
    (`field` without the GraphQL "input" prefix)."""
    if route == "graphql":
        response = await app.upload_graphql(content, name, **texts)
        assert response.status_code == 200, response.text
        result = response.json()["data"]["uploadMedia"]
        assert result["asset"] is None
        errors = result["errors"]
        for error in errors:
            assert error["field"][0] == "input"
            error["field"] = error["field"][1:]
    else:
        response = await app.upload_http(content, name, **texts)
        assert 400 <= response.status_code < 500, response.text
        errors = [
            {"message": error["message"], **error["extensions"]}
            for error in response.json()["errors"]
        ]
    assert errors, "an error was expected"
    return errors


def png_bomb(side: int) -> bytes:
    """A black 1-bit PNG of side x side pixels: a few kilobytes that decode to many megapixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
        )

    header = side.to_bytes(4, "big") * 2 + bytes([1, 0, 0, 0, 0])
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (side + 7) // 8)
    data = b"".join(compressor.compress(row * 100) for _ in range(side // 100))
    data += compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def zip_payload() -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("evil.html", "<script>alert(1)</script>")
    return out.getvalue()


SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script></svg>"
)
HTML = b"<!DOCTYPE html><html><body><script>fetch('/graphql')</script></body></html>"
WINDOWS_EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200 + b"This program"
)
LINUX_ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 100

BAD_FILES = [
    # (content, file name, expected code, words of the message)
    pytest.param(b"", "empty.jpg", "INVALID", "пустой", id="empty"),
    pytest.param(jpeg_with_gps()[:600], "cut.jpg", "INVALID", "обрезан", id="truncated-jpeg"),
    pytest.param(png_image()[:-30], "cut.png", "INVALID", "обрезан", id="truncated-png"),
    pytest.param(png_bomb(8000), "bomb.png", "INVALID", "Мпикс", id="decompression-bomb"),
    pytest.param(png_bomb(12000), "bomb2.png", "INVALID", "Мпикс", id="pillow-bomb-limit"),
    pytest.param(WINDOWS_EXE, "photo.jpg", "UNSUPPORTED_TYPE", "программа Windows", id="exe"),
    pytest.param(LINUX_ELF, "photo.jpg", "UNSUPPORTED_TYPE", "программа", id="elf"),
    pytest.param(b"#!/bin/sh\nrm -rf /\n", "photo.jpg", "UNSUPPORTED_TYPE", "скрипт", id="script"),
    pytest.param(HTML, "page.jpg", "UNSUPPORTED_TYPE", "HTML", id="html"),
    pytest.param(SVG, "logo.svg", "UNSUPPORTED_TYPE", "SVG", id="svg-with-script"),
    pytest.param(
        jpeg_with_gps() + zip_payload(), "poly.jpg", "INVALID", "посторонние", id="jpeg+zip"
    ),
    pytest.param(
        jpeg_with_gps() + b"<script>alert(1)</script>",
        "poly.jpg",
        "INVALID",
        "посторонние",
        id="jpeg+script",
    ),
    pytest.param(png_image() + HTML, "poly.png", "INVALID", "посторонние", id="png+html"),
    pytest.param(HTML + pdf_document(), "doc.pdf", "UNSUPPORTED_TYPE", "HTML", id="html+pdf"),
    pytest.param(pdf_document() + zip_payload(), "doc.pdf", "INVALID", "посторонние", id="pdf+zip"),
    pytest.param(
        pdf_document().replace(
            b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >>"
        ),
        "doc.pdf",
        "INVALID",
        "скрипты",
        id="pdf-with-javascript",
    ),
    pytest.param(zip_payload(), "archive.docx", "UNSUPPORTED_TYPE", "ZIP", id="plain-zip"),
    pytest.param(
        b"\x00\x01\x02 binary junk", "x.png", "UNSUPPORTED_TYPE", "не распознан", id="junk"
    ),
]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(("content", "name", "code", "words"), BAD_FILES)
async def test_bad_files_are_refused_and_nothing_is_left(
    media_app: MediaApp, route: str, content: bytes, name: str, code: str, words: str
) -> None:
    await use_api_token(media_app.client, "write")
    errors = await upload_errors(media_app, route, content, name)
    assert [error["code"] for error in errors] == [code], errors
    assert errors[0]["field"] == ["file"]
    assert words in errors[0]["message"], errors[0]["message"]
    assert media_app.stored_files() == []
    assert await MediaAsset.all().count() == 0


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "name", ["../../../etc/passwd.jpg", "..\\..\\windows\\win.ini.jpg", "/tmp/x.jpg"]
)
async def test_file_names_with_paths_are_refused(
    media_app: MediaApp, route: str, name: str
) -> None:
    await use_api_token(media_app.client, "write")
    errors = await upload_errors(media_app, route, png_image(), name, alt="Логотип")
    assert [(e["field"], e["code"]) for e in errors] == [(["file"], "INVALID")]
    assert "путь" in errors[0]["message"]
    assert media_app.stored_files() == []
    assert not list(media_app.root.parent.glob("**/passwd*"))


@pytest.mark.parametrize("route", ROUTES)
async def test_odd_characters_in_file_names_are_cleaned(media_app: MediaApp, route: str) -> None:
    await use_api_token(media_app.client, "write")
    name = "\u202eфото\u200b  визита\ufeff" + "я" * 300 + ".exe"
    if route == "graphql":
        result = (await media_app.upload_graphql(png_image(), name, alt="Фото")).json()
        file_name = result["data"]["uploadMedia"]["asset"]["fileName"]
    else:
        file_name = (await media_app.upload_http(png_image(), name, alt="Фото")).json()["fileName"]
    assert file_name.startswith("фото визита")
    assert file_name.endswith(".png")  # the type the bytes are, not the claimed one
    assert len(file_name) <= 200


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("alt", [None, "", "   \u200b "])
async def test_images_need_alt(media_app: MediaApp, route: str, alt: str | None) -> None:
    await use_api_token(media_app.client, "write")
    errors = await upload_errors(media_app, route, jpeg_with_gps(), "photo.jpg", alt=alt)
    assert [(e["field"], e["code"]) for e in errors] == [(["alt"], "REQUIRED")]
    assert "слабовидящих" in errors[0]["message"]
    assert media_app.stored_files() == []


@pytest.mark.parametrize("route", ROUTES)
async def test_every_problem_is_reported_at_once(media_app: MediaApp, route: str) -> None:
    await use_api_token(media_app.client, "write")
    errors = await upload_errors(media_app, route, png_image(), "x.png", alt=None, credit="к" * 400)
    assert sorted((e["field"][0], e["code"]) for e in errors) == [
        ("alt", "REQUIRED"),
        ("credit", "TOO_LONG"),
    ]


@pytest.mark.parametrize("route", ROUTES)
async def test_a_mislabelled_image_is_taken_for_what_it_is(media_app: MediaApp, route: str) -> None:
    await use_api_token(media_app.client, "write")
    if route == "graphql":
        response = await media_app.upload_graphql(
            png_image(), "photo.jpg", content_type="image/jpeg"
        )
        asset = response.json()["data"]["uploadMedia"]["asset"]
    else:
        response = await media_app.upload_http(png_image(), "photo.jpg", content_type="image/jpeg")
        asset = response.json()
    assert asset["mimeType"] == "image/png"
    assert asset["fileName"] == "photo.png"
    assert asset["url"].endswith(".png")


async def test_multipart_without_the_csrf_header_is_refused(media_app: MediaApp) -> None:
    await use_api_token(media_app.client, "write")
    no_header = {"graphql-require-preflight": ""}
    response = await media_app.upload_graphql(png_image(), "x.png", headers=no_header)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "CSRF_HEADER_REQUIRED"
    assert "GraphQL-Require-Preflight" in error["message"]
    response = await media_app.upload_http(png_image(), "x.png", headers=no_header)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "CSRF_HEADER_REQUIRED"
    assert media_app.stored_files() == []
    # Any of the accepted headers will do.
    for header in ("apollo-require-preflight", "x-requested-with"):
        response = await media_app.upload_http(
            png_image(), "x.png", alt="x", headers={**no_header, header: "1"}
        )
        assert response.status_code == 201, response.text


async def test_a_json_string_instead_of_a_file_is_a_user_error(media_app: MediaApp) -> None:
    await use_api_token(media_app.client, "write")
    result = await media_app.client.post(
        "mutation($input: UploadMediaInput!) { uploadMedia(input: $input) "
        "{ asset { id } errors { field code message } } }",
        {"input": {"file": "not a file", "alt": "x"}},
    )
    errors = result["data"]["uploadMedia"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [(["input", "file"], "INVALID")]


async def test_post_media_refuses_other_forms_clearly(media_app: MediaApp) -> None:
    await use_api_token(media_app.client, "write")
    headers = {**media_app.client.headers, "x-requested-with": "fetch"}
    response = await media_app.http.post("/media", json={"file": "x"}, headers=headers)
    assert response.status_code == 415
    response = await media_app.http.post(
        "/media",
        data={"alt": "без файла"},
        files={"other": ("x.png", png_image())},
        headers=headers,
    )
    assert response.status_code == 400
    assert "Ожидается один файл" in response.json()["errors"][0]["message"]
    response = await media_app.http.post(
        "/media", data={"title": "x"}, files={"file": ("x.png", png_image())}, headers=headers
    )
    assert response.status_code == 400
    assert "Неизвестное поле «title»" in response.json()["errors"][0]["message"]
    response = await media_app.http.post(
        "/media",
        content=b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'
        + png_image()[:100],
        headers={**headers, "content-type": "multipart/form-data; boundary=xyz"},
    )
    assert response.status_code == 400
    assert "оборвалась" in response.json()["errors"][0]["message"]
    assert media_app.stored_files() == []


# ---------------------------------------------------------------- size limit


@pytest.fixture
async def small_limit_app(db: TestDatabase, tmp_path: Path) -> AsyncIterator[MediaApp]:
    async for app in make_media_app(db, tmp_path / "media", CMS_MEDIA_MAX_BYTES="4096"):
        yield app


def large_png() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((120, 120), 64).save(out, "PNG")
    assert len(out.getvalue()) > 4096
    return out.getvalue()


@pytest.mark.parametrize("route", ROUTES)
async def test_oversize_files_are_refused_before_reading_on(
    small_limit_app: MediaApp, route: str
) -> None:
    app = small_limit_app
    await use_api_token(app.client, "write")
    errors = await upload_errors(app, route, large_png(), "big.png", alt="Большой")
    assert [(e["field"], e["code"]) for e in errors] == [(["file"], "TOO_LARGE")]
    assert "0.00390625 МБ" in errors[0]["message"] or "МБ" in errors[0]["message"]
    assert app.stored_files() == []


async def test_oversize_declared_length_is_refused_without_reading_the_body(
    small_limit_app: MediaApp,
) -> None:
    app = small_limit_app
    await use_api_token(app.client, "write")
    body_read = False

    async def body() -> AsyncIterator[bytes]:
        nonlocal body_read
        body_read = True
        yield b"x" * 10

    for path in ("/media", "/graphql"):
        response = await app.http.post(
            path,
            content=body(),
            headers={
                **app.client.headers,
                "x-requested-with": "1",
                "content-type": "multipart/form-data; boundary=xyz",
                "content-length": str(10 * 1024 * 1024),
            },
        )
        assert response.status_code == 413
        assert "больше допустимого" in response.text
    assert not body_read


async def test_oversize_chunked_upload_stops_while_streaming(small_limit_app: MediaApp) -> None:
    app = small_limit_app
    await use_api_token(app.client, "write")
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'
        for _ in range(1000):  # up to 1 MB, far over the limit
            sent += 1024
            yield b"\x00" * 1024
        yield b"\r\n--xyz--\r\n"

    response = await app.http.post(
        "/media",
        content=body(),
        headers={
            **app.client.headers,
            "x-requested-with": "1",
            "content-type": "multipart/form-data; boundary=xyz",
        },
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "TOO_LARGE"
    assert sent < 1000 * 1024  # it stopped reading early
    assert app.stored_files() == []
