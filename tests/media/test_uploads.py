"""Uploading real files through uploadMedia (GraphQL multipart) and POST /media,
and reading them back over HTTP."""

import asyncio
import io
from collections.abc import AsyncIterator

import pytest
from PIL import Image

from cms.models import MediaAsset
from tests.conftest import login_as, use_api_token
from tests.media.conftest import (
    MediaApp,
    docx_document,
    jpeg_with_gps,
    odt_document,
    payload,
    pdf_document,
    png_image,
)


async def test_jpeg_through_graphql_is_stored_upright_without_exif(media_app: MediaApp) -> None:
    await login_as(media_app.client, "author")
    original = jpeg_with_gps((120, 80), orientation=6)
    assert b"PhoneMaker" in original
    result = payload(
        await media_app.upload_graphql(
            original,
            "IMG_0001.JPG",
            alt="Делегация у завода",
            caption="Визит\nделегации",
            credit="Пресс-служба",
        )
    )
    assert result["errors"] == []
    asset = result["asset"]
    # Orientation 6: the 120x80 picture is shown turned, 80x120.
    assert (asset["width"], asset["height"]) == (80, 120)
    assert asset["mimeType"] == "image/jpeg"
    assert asset["fileName"] == "IMG_0001.jpg"
    assert asset["alt"] == "Делегация у завода"
    assert asset["caption"] == "Визит\nделегации"
    assert asset["credit"] == "Пресс-служба"
    assert asset["placeholder"]
    assert len(asset["placeholder"]) <= 40
    assert asset["dominantColor"].startswith("#")

    response = await media_app.http.get(
        media_app.local(asset["url"]), headers=media_app.client.headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"] == "inline"
    assert "sandbox" in response.headers["content-security-policy"]
    assert int(response.headers["content-length"]) == asset["size"] == len(response.content)
    served = response.content
    for secret in (b"PhoneMaker", b"Secret Model X", b"GPS", b"Exif"):
        assert secret not in served
    image = Image.open(io.BytesIO(served))
    assert image.size == (80, 120)
    assert not image.getexif()
    # The red half was on the left; turned by 90° clockwise it is on top.
    top, bottom = image.getpixel((40, 10)), image.getpixel((40, 110))
    assert (top[0] > 180, top[2] < 100) == (True, True), top
    assert (bottom[2] > 180, bottom[0] < 100) == (True, True), bottom
    row = await MediaAsset.get(storage_key=asset["url"].split("/media/", 1)[1])
    assert row.sha256 in asset["url"]


async def test_png_pdf_and_documents_through_post_media(media_app: MediaApp) -> None:
    await use_api_token(media_app.client, "write")
    cases = [
        (png_image(), "logo.png", "image/png", {"alt": "Логотип"}),
        (pdf_document(), "Соглашение 2002.pdf", "application/pdf", {"alt": None}),
        (
            docx_document(),
            "plan.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            {"alt": None},
        ),
        (odt_document(), "plan.odt", "application/vnd.oasis.opendocument.text", {"alt": None}),
    ]
    for content, name, mime, texts in cases:
        response = await media_app.upload_http(content, name, credit="Минэкономразвития", **texts)
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["mimeType"] == mime
        assert body["id"]
        assert body["url"].startswith("https://api.invest.example/media/")
        assert response.headers["location"] == body["url"]
        # Nothing public uses it yet: the uploader's token sees it.
        fetched = await media_app.http.get(
            media_app.local(body["url"]), headers=media_app.client.headers
        )
        assert fetched.status_code == 200
        assert fetched.headers["content-type"] == mime
        if mime.startswith("image/"):
            assert fetched.headers["content-disposition"] == "inline"
            assert Image.open(io.BytesIO(fetched.content)).size == (64, 48)
        else:
            # Documents are stored byte for byte and always downloaded.
            assert fetched.content == content
            disposition = fetched.headers["content-disposition"]
            assert disposition.startswith("attachment;")
        # The GraphQL node is the same asset.
        node = await media_app.client.data(
            "query($id: ID!) { node(id: $id) { ... on MediaAsset { fileName size credit } } }",
            {"id": body["id"]},
        )
        assert node["node"] == {
            "fileName": name,
            "size": body["size"],
            "credit": "Минэкономразвития",
        }
    pdf_row = await MediaAsset.get(mime_type="application/pdf")
    pdf = await media_app.http.get(
        f"/media/{pdf_row.storage_key}", headers=media_app.client.headers
    )
    assert "filename*=UTF-8''%D0%A1%D0%BE%D0%B3%D0%BB" in pdf.headers["content-disposition"]


async def test_same_bytes_are_stored_once(media_app: MediaApp) -> None:
    await login_as(media_app.client, "editor")
    content = jpeg_with_gps()
    first = payload(await media_app.upload_graphql(content, "a.jpg", alt="Первый"))["asset"]
    second = (await media_app.upload_http(content, "b.jpg", alt="Второй")).json()
    assert first["id"] != second["id"]
    assert first["url"] == second["url"]
    assert len(media_app.originals()) == 1


async def test_concurrent_uploads_of_one_file_store_it_once_and_both_succeed(
    media_app: MediaApp,
) -> None:
    await login_as(media_app.client, "editor")
    content = png_image((300, 200))
    responses = await asyncio.gather(
        media_app.upload_http(content, "one.png", alt="Один"),
        media_app.upload_graphql(content, "two.png", alt="Два"),
        media_app.upload_http(content, "three.png", alt="Три"),
    )
    assert responses[0].status_code == responses[2].status_code == 201
    assert payload(responses[1])["errors"] == []
    assert await MediaAsset.all().count() == 3
    assert len({row.storage_key for row in await MediaAsset.all()}) == 1
    assert len(media_app.stored_files()) == 1


@pytest.mark.parametrize(
    ("role", "scope", "status"),
    [(None, None, 401), ("viewer", None, 403), (None, "read_drafts", 403)],
)
async def test_who_may_upload(
    media_app: MediaApp, role: str | None, scope: str | None, status: int
) -> None:
    if role:
        await login_as(media_app.client, role)
    if scope:
        await use_api_token(media_app.client, scope)
    response = await media_app.upload_http(png_image(), "x.png", alt="x")
    assert response.status_code == status
    assert response.json()["errors"][0]["extensions"]["code"] in ("UNAUTHENTICATED", "FORBIDDEN")
    response = await media_app.upload_graphql(png_image(), "x.png", alt="x")
    assert response.status_code == status
    assert response.json()["errors"][0]["extensions"]["code"] in ("UNAUTHENTICATED", "FORBIDDEN")
    assert media_app.stored_files() == []


async def test_uploads_from_callers_without_the_right_are_refused_unread(
    media_app: MediaApp,
) -> None:
    body_read = False

    async def body() -> AsyncIterator[bytes]:
        nonlocal body_read
        body_read = True
        yield b"--xyz--\r\n"

    for path in ("/graphql", "/media"):
        response = await media_app.http.post(
            path,
            content=body(),
            headers={"x-requested-with": "1", "content-type": "multipart/form-data; boundary=xyz"},
        )
        assert response.status_code == 401
    assert not body_read


async def test_forged_token_on_post_media_is_401(media_app: MediaApp) -> None:
    response = await media_app.upload_http(
        png_image(), "x.png", headers={"authorization": "Bearer cmst_forged"}
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_refusals_of_large_uploads_are_still_clear(media_app: MediaApp) -> None:
    """A 5 MB upload (over the 1 MB limit of other requests) with a forged token gets
    the reason, not a bare "Content Too Large" from the body limit."""

    async def body() -> AsyncIterator[bytes]:
        yield b"\x00" * 1024

    for path in ("/graphql", "/media"):
        response = await media_app.http.post(
            path,
            content=body(),
            headers={
                "authorization": "Bearer cmst_forged",
                "x-requested-with": "1",
                "content-type": "multipart/form-data; boundary=xyz",
                "content-length": str(5 * 1024 * 1024),
            },
        )
        assert response.status_code == 401, path
        assert "Токен недействителен" in response.text


async def test_upload_is_audited(media_app: MediaApp) -> None:
    from cms.models import AuditEntry

    await login_as(media_app.client, "author")
    asset = payload(await media_app.upload_graphql(png_image(), "a.png", alt="a"))["asset"]
    entry = await AuditEntry.filter(action="uploadMedia").first()
    assert entry is not None
    assert entry.object_id == asset["id"]
