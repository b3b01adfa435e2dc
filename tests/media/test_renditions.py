"""Renditions: computed by the GraphQL field, made on the first GET, kept, bounded."""

import asyncio
import io
from typing import Any

import pytest
from PIL import Image

from cms.db import count_statements
from cms.models import MediaAsset, News
from media.renditions import avif_supported
from tests.conftest import use_api_token
from tests.editing.helpers import sign_in
from tests.media.conftest import MediaApp, jpeg_with_gps, payload, pdf_document, png_image
from tests.seed_content import NEWS_SLUG

RENDITION = """
query($id: ID!, $width: Int, $height: Int, $fit: RenditionFit, $format: ImageFormat) {
  node(id: $id) { ... on MediaAsset {
    rendition(width: $width, height: $height, fit: $fit, format: $format) {
      url width height mimeType } } } }
"""


async def upload_photo(app: MediaApp) -> dict[str, Any]:
    """A 1200x800 camera photo with orientation 6: 800x1200 upright, red half on top."""
    # Marked public: anonymous callers fetch its renditions.
    await sign_in(app.client, "editor")
    photo = jpeg_with_gps((1200, 800))
    asset = payload(await app.upload_graphql(photo, "p.jpg", alt="Фото", public=True))
    return asset["asset"]


async def rendition(app: MediaApp, asset_id: str, **arguments: Any) -> dict[str, Any] | None:
    data = await app.client.data(RENDITION, {"id": asset_id, **arguments})
    return data["node"]["rendition"]


def rendition_files(app: MediaApp) -> list[str]:
    return [p.name for p in app.stored_files() if "renditions" in p.parts]


async def test_rendition_is_made_on_first_get_and_kept(media_app: MediaApp) -> None:
    asset = await upload_photo(media_app)
    result = await rendition(media_app, asset["id"], width=300)
    assert result is not None
    # 300 rounds up to 320; the shape is the source's.
    assert (result["width"], result["height"], result["mimeType"]) == (320, 480, "image/webp")
    assert result["url"].endswith("/w320.webp")
    # The resolver did no image work: nothing exists until the URL is fetched.
    assert rendition_files(media_app) == []

    first = await media_app.http.get(media_app.local(result["url"]))
    assert first.status_code == 200
    assert first.headers["content-type"] == "image/webp"
    assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
    image = Image.open(io.BytesIO(first.content))
    assert (image.format, image.size) == ("WEBP", (320, 480))
    assert not image.getexif()
    red_top = image.getpixel((160, 40))
    assert red_top[0] > 180, red_top  # upright like the original
    assert rendition_files(media_app) == ["w320.webp"]
    stored = next(p for p in media_app.stored_files() if p.name == "w320.webp")
    made_at = media_app.stored_stamp(stored)

    again = await media_app.http.get(media_app.local(result["url"]))
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert media_app.stored_stamp(stored) == made_at  # served, not made again
    not_modified = await media_app.http.get(
        media_app.local(result["url"]), headers={"if-none-match": first.headers["etag"]}
    )
    assert not_modified.status_code == 304


@pytest.mark.parametrize(
    ("arguments", "size", "mime", "name"),
    [
        ({"width": 640, "height": 360}, (640, 360), "image/webp", "w640-16x9-cover.webp"),
        (
            {"width": 600, "height": 340, "fit": "CONTAIN", "format": "JPEG"},
            (240, 360),
            "image/jpeg",
            "w640-16x9-contain.jpg",
        ),
        (
            {"width": 100, "height": 100, "format": "PNG"},
            (160, 160),
            "image/png",
            "w160-1x1-cover.png",
        ),
        ({"height": 500}, (480, 720), "image/webp", "w480.webp"),
        ({}, (800, 1200), "image/webp", "w960.webp"),  # never larger than the source
        ({"width": 5000}, (800, 1200), "image/webp", "w1920.webp"),
        ({"width": 1920, "height": 1920}, (800, 800), "image/webp", "w1920-1x1-cover.webp"),
    ],
)
async def test_sizes_fits_and_formats(
    media_app: MediaApp, arguments: dict[str, Any], size: tuple[int, int], mime: str, name: str
) -> None:
    asset = await upload_photo(media_app)
    result = await rendition(media_app, asset["id"], **arguments)
    assert result is not None
    assert (result["width"], result["height"]) == size
    assert result["mimeType"] == mime
    assert result["url"].endswith("/" + name)
    response = await media_app.http.get(media_app.local(result["url"]))
    assert response.status_code == 200
    assert response.headers["content-type"] == mime
    assert Image.open(io.BytesIO(response.content)).size == size


async def test_avif(media_app: MediaApp) -> None:
    asset = await upload_photo(media_app)
    if not avif_supported():
        errors = await media_app.client.errors(RENDITION, {"id": asset["id"], "format": "AVIF"})
        assert errors[0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "format"}
        return
    result = await rendition(media_app, asset["id"], width=160, format="AVIF")
    assert result is not None
    response = await media_app.http.get(media_app.local(result["url"]))
    assert response.headers["content-type"] == "image/avif"
    assert Image.open(io.BytesIO(response.content)).format == "AVIF"


async def test_transparency_is_kept_or_flattened(media_app: MediaApp) -> None:
    await sign_in(media_app.client, "editor")
    logo = png_image((400, 400), (0, 0, 255, 0))
    asset = payload(await media_app.upload_graphql(logo, "t.png", alt="Лого", public=True))["asset"]
    webp = await rendition(media_app, asset["id"], width=160)
    jpeg = await rendition(media_app, asset["id"], width=160, format="JPEG")
    assert webp is not None
    assert jpeg is not None
    webp_image = Image.open(
        io.BytesIO((await media_app.http.get(media_app.local(webp["url"]))).content)
    )
    assert webp_image.mode == "RGBA"
    assert webp_image.getpixel((5, 5))[3] == 0
    jpeg_image = Image.open(
        io.BytesIO((await media_app.http.get(media_app.local(jpeg["url"]))).content)
    )
    assert jpeg_image.getpixel((5, 5)) == (255, 255, 255)  # on white


async def test_documents_have_no_rendition(media_app: MediaApp) -> None:
    await use_api_token(media_app.client, "write")
    asset = payload(await media_app.upload_graphql(pdf_document(), "d.pdf", alt=None))["asset"]
    assert await rendition(media_app, asset["id"], width=320) is None


@pytest.mark.parametrize(("argument", "value"), [("width", 0), ("height", -5), ("width", 100_000)])
async def test_nonsense_sizes_are_bad_input(media_app: MediaApp, argument: str, value: int) -> None:
    asset = await upload_photo(media_app)
    errors = await media_app.client.errors(RENDITION, {"id": asset["id"], argument: value})
    assert errors[0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": argument}


async def test_sizes_outside_the_allowlist_are_never_made(media_app: MediaApp) -> None:
    asset = await upload_photo(media_app)
    result = await rendition(media_app, asset["id"], width=320)
    assert result is not None
    base = media_app.local(result["url"]).rsplit("/", 1)[0]
    for name in (
        "w333.webp",
        "w320-7x3-cover.webp",
        "w320-16x9-stretch.webp",
        "w320.gif",
        "w320.bmp",
        "w0320.webp",
        "w320-16x9-cover.webp.exe",
    ):
        response = await media_app.http.get(f"{base}/{name}")
        assert response.status_code == 404, name
    assert rendition_files(media_app) == []


async def test_simultaneous_first_requests_make_one_file(media_app: MediaApp) -> None:
    asset = await upload_photo(media_app)
    result = await rendition(media_app, asset["id"], width=640, height=480)
    assert result is not None
    path = media_app.local(result["url"])
    responses = await asyncio.gather(*(media_app.http.get(path) for _ in range(6)))
    assert {response.status_code for response in responses} == {200}
    assert len({response.content for response in responses}) == 1
    assert rendition_files(media_app) == ["w640-4x3-cover.webp"]
    assert not [p for p in media_app.stored_files() if ".staging" in p.parts]


async def test_renditions_cost_no_sql_in_graphql(media_app: MediaApp) -> None:
    asset = await upload_photo(media_app)
    row = await MediaAsset.get(storage_key=asset["url"].split("/media/", 1)[1])
    await News.filter(slug=NEWS_SLUG).update(cover_id=row.pk)
    # Both through Strawberry (the read compiler leaves renditions and dominantColor
    # to it): the same statements with renditions as without.
    plain = "query($slug: String) { newsItem(slug: $slug) { cover { url dominantColor } } }"
    with_renditions = """query($slug: String) { newsItem(slug: $slug) { cover { url alt
      small: rendition(width: 320) { url width height }
      wide: rendition(width: 1280, height: 720, format: JPEG) { url width height }
      placeholder dominantColor } } }"""
    with count_statements() as before:
        await media_app.client.data(plain, {"slug": NEWS_SLUG})
    with count_statements() as after:
        data = await media_app.client.data(with_renditions, {"slug": NEWS_SLUG})
    assert len(after) == len(before)
    cover = data["newsItem"]["cover"]
    assert cover["small"]["width"] == 320
    assert cover["wide"]["url"].endswith("/w1280-16x9-cover.jpg")
