"""GET /media/...: content types, caching, conditional and range requests, no traversal."""

import pytest

from tests.editing.helpers import sign_in
from tests.media.conftest import MediaApp, payload, pdf_document, png_image


async def uploaded(app: MediaApp, content: bytes, name: str, alt: str | None = "Картинка") -> str:
    # Marked public by an editor: anonymous callers fetch it (test_media_visibility.py
    # covers files nothing public uses).
    await sign_in(app.client, "editor")
    asset = payload(await app.upload_graphql(content, name, alt=alt, public=True))["asset"]
    assert asset is not None
    return app.local(asset["url"])


async def test_caching_headers_and_304(media_app: MediaApp) -> None:
    path = await uploaded(media_app, png_image(), "a.png")
    response = await media_app.http.get(path)
    assert response.status_code == 200
    etag = response.headers["etag"]
    sha256 = path.rsplit("/", 1)[1].split(".")[0]
    assert etag == f'"{sha256}"'  # strong, the content hash
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = await media_app.http.get(path, headers={"if-none-match": header})
        assert again.status_code == 304, header
        assert again.content == b""
        assert again.headers["etag"] == etag
    changed = await media_app.http.get(path, headers={"if-none-match": '"something-else"'})
    assert changed.status_code == 200
    assert changed.content == response.content


async def test_range_requests(media_app: MediaApp) -> None:
    path = await uploaded(media_app, pdf_document(), "doc.pdf", alt=None)
    whole = (await media_app.http.get(path)).content
    size = len(whole)

    first = await media_app.http.get(path, headers={"range": "bytes=0-9"})
    assert first.status_code == 206
    assert first.content == whole[:10]
    assert first.headers["content-range"] == f"bytes 0-9/{size}"
    assert first.headers["content-length"] == "10"

    tail = await media_app.http.get(path, headers={"range": "bytes=-7"})
    assert tail.status_code == 206
    assert tail.content == whole[-7:]

    rest = await media_app.http.get(path, headers={"range": f"bytes={size - 5}-"})
    assert rest.content == whole[-5:]
    beyond_end = await media_app.http.get(path, headers={"range": f"bytes=10-{size + 100}"})
    assert beyond_end.content == whole[10:]

    unsatisfiable = await media_app.http.get(path, headers={"range": f"bytes={size}-"})
    assert unsatisfiable.status_code == 416
    assert unsatisfiable.headers["content-range"] == f"bytes */{size}"

    # Several ranges or other units: the whole file.
    for header in ("bytes=0-1,5-6", "items=0-1", "bytes=9-2"):
        response = await media_app.http.get(path, headers={"range": header})
        assert response.status_code == 200, header
        assert response.content == whole
    # If-Range with an old validator: the whole (new) file.
    stale = await media_app.http.get(path, headers={"range": "bytes=0-9", "if-range": '"old"'})
    assert stale.status_code == 200
    assert stale.content == whole


async def test_head_and_document_disposition(media_app: MediaApp) -> None:
    path = await uploaded(media_app, pdf_document(), "План мероприятий.pdf", alt=None)
    response = await media_app.http.head(path)
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-type"] == "application/pdf"
    assert int(response.headers["content-length"]) == len(pdf_document())
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="')
    assert "filename*=UTF-8''%D0%9F%D0%BB%D0%B0%D0%BD" in disposition


@pytest.mark.parametrize(
    "path",
    [
        "/media/../cms.db",
        "/media/%2e%2e/%2e%2e/etc/passwd",
        "/media/..%2f..%2fetc%2fpasswd",
        "/media/ab/cd/../../../pyproject.toml",
        "/media/.staging/x.part",
        "/media/renditions/../../x",
        "/media/AB/CD/" + "A" * 64 + ".png",
        "/media/00/00/" + "0" * 64 + ".exe",
        "/media/ff/ff/" + "0" * 64 + ".png",  # directories that do not match the hash
        "/media/" + "0" * 64 + ".png",
        "/media/renditions/00/" + "0" * 64 + "/w640.webp",  # no such source
        "/media/renditions/00/" + "0" * 64 + "/../../../etc/passwd",
    ],
)
async def test_only_storage_keys_are_served(media_app: MediaApp, path: str) -> None:
    (media_app.root / ".staging").mkdir(parents=True, exist_ok=True)
    (media_app.root / ".staging" / "x.part").write_bytes(b"secret")
    response = await media_app.http.get(path)
    assert response.status_code == 404
    assert b"secret" not in response.content
    if response.headers["content-type"] == "application/json":  # not normalised away by httpx
        assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
