"""An app over a fresh database with its own temporary media root, and real files
made here with Pillow (and piexif) for the tests to upload.

`media_app` runs each test on both storage backends: local disk, and a real
S3-compatible server (SeaweedFS, tests/media/s3server.py) under a key prefix of the
test's own; the S3 variant skips, saying why, where the server cannot start."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import piexif
import pytest
from PIL import Image

from cms.settings import Settings
from media.service import close_media, media_for
from tests.conftest import GraphQLClient, TestDatabase, make_settings
from tests.media.s3server import S3Server, new_prefix, seaweedfs

PREFLIGHT = {"graphql-require-preflight": "1"}


@dataclass
class MediaApp:
    client: GraphQLClient
    settings: Settings
    root: Path
    s3: S3Server | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        return self.client.http

    def stored_files(self) -> list[Path]:
        """Every file under the media root, temporary ones included; on S3 also every
        object under the app's prefix, as if it were a file under the root."""
        files = []
        if self.root.exists():
            files = sorted(path for path in self.root.rglob("*") if path.is_file())
        if self.s3 is not None:
            files += sorted(self.root / key for key in self.s3.keys(self.settings.s3_prefix))
        return files

    def stored_stamp(self, path: Path) -> object:
        """Changes when the stored file is written again."""
        if self.s3 is None:
            return path.stat().st_mtime_ns
        key = f"{self.settings.s3_prefix}/{path.relative_to(self.root)}"
        answer = self.s3.client().head_object(Bucket=self.s3.bucket, Key=key)
        return answer["LastModified"], answer["ETag"]

    def originals(self) -> list[Path]:
        return [p for p in self.stored_files() if p.relative_to(self.root).parts[0] != "renditions"]

    def local(self, url: str) -> str:
        """The path of a public media URL, for the test client."""
        assert url.startswith(self.settings.public_url), url
        return url.removeprefix(self.settings.public_url)

    async def upload_graphql(
        self,
        content: bytes,
        file_name: str = "photo.jpg",
        *,
        alt: str | None = "Описание",
        caption: str | None = None,
        credit: str | None = None,
        public: bool | None = None,
        content_type: str = "application/octet-stream",
        headers: dict[str, str] | None = None,
        fields: str = "id url fileName mimeType size width height alt caption credit "
        "placeholder dominantColor",
    ) -> httpx.Response:
        """uploadMedia per the GraphQL multipart request spec."""
        variables: dict[str, Any] = {"file": None, "alt": alt, "caption": caption}
        variables["credit"] = credit
        if public is not None:
            variables["public"] = public
        operations = {
            "query": "mutation($input: UploadMediaInput!) { uploadMedia(input: $input) { "
            f"asset {{ {fields} }} errors {{ field code message }} }} }}",
            "variables": {"input": variables},
        }
        return await self.http.post(
            "/graphql",
            data={
                "operations": json.dumps(operations),
                "map": json.dumps({"0": ["variables.input.file"]}),
            },
            files={"0": (file_name, content, content_type)},
            headers={**self.client.headers, **PREFLIGHT, **(headers or {})},
        )

    async def upload_http(
        self,
        content: bytes,
        file_name: str = "photo.jpg",
        *,
        alt: str | None = "Описание",
        caption: str | None = None,
        credit: str | None = None,
        content_type: str = "application/octet-stream",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST /media, as `curl -F file=@photo.jpg -F alt=...` would."""
        data = {
            name: value
            for name, value in (("alt", alt), ("caption", caption), ("credit", credit))
            if value is not None
        }
        return await self.http.post(
            "/media",
            data=data,
            files={"file": (file_name, content, content_type)},
            headers={**self.client.headers, **PREFLIGHT, **(headers or {})},
        )


async def make_media_app(
    database: TestDatabase, root: Path, s3: S3Server | None = None, **overrides: str
) -> AsyncIterator[MediaApp]:
    from web.app import create_app

    if s3 is not None:
        overrides = {**s3.environ(new_prefix()), **overrides}
    settings = make_settings(database.url, CMS_MEDIA_ROOT=str(root), **overrides)
    app = create_app(settings, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield MediaApp(GraphQLClient(http), settings, settings.media_root, s3)
    finally:
        await close_media(media_for(settings))


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """One SeaweedFS for the run (each app has its own key prefix in its bucket)."""
    with seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as server:
        if isinstance(server, str):
            pytest.skip(server)
        yield server


@pytest.fixture(params=["local", "s3"])
async def media_app(
    request: pytest.FixtureRequest, db: TestDatabase, tmp_path: Path
) -> AsyncIterator[MediaApp]:
    """A fresh database and an empty media root of this test's own (never uploads/),
    on local disk or on S3."""
    s3 = request.getfixturevalue("s3_server") if request.param == "s3" else None
    async for app in make_media_app(db, tmp_path / "media", s3):
        yield app


def payload(response: httpx.Response, name: str = "uploadMedia") -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"][name]


# ---------------------------------------------------------------- files


def jpeg_with_gps(size: tuple[int, int] = (120, 80), orientation: int = 6) -> bytes:
    """A camera-like JPEG: GPS position, maker, an orientation that turns it upright,
    and a red left half so that the turn can be seen in the pixels."""
    image = Image.new("RGB", size, (20, 60, 220))
    image.paste((230, 20, 20), (0, 0, size[0] // 2, size[1]))
    exif = piexif.dump(
        {
            "0th": {
                piexif.ImageIFD.Orientation: orientation,
                piexif.ImageIFD.Make: b"PhoneMaker",
                piexif.ImageIFD.Model: b"Secret Model X",
            },
            "GPS": {
                piexif.GPSIFD.GPSLatitudeRef: b"N",
                piexif.GPSIFD.GPSLatitude: ((50, 1), (15, 1), (3000, 100)),
                piexif.GPSIFD.GPSLongitudeRef: b"E",
                piexif.GPSIFD.GPSLongitude: ((127, 1), (32, 1), (1000, 100)),
            },
        }
    )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def png_image(
    size: tuple[int, int] = (64, 48), colour: tuple[int, ...] = (0, 128, 0, 200)
) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, colour).save(out, "PNG")
    return out.getvalue()


def pdf_document(text: str = "Hello", catalog_extra: bytes = b"") -> bytes:
    """A tiny valid PDF written by hand, with a correct cross-reference table;
    `catalog_extra` goes into the document catalog (e.g. an /OpenAction)."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R" + catalog_extra + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def docx_document() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/'
            '2006/content-types"><Override PartName="/word/document.xml" ContentType="'
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
            '"/></Types>',
        )
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        archive.writestr("word/document.xml", '<?xml version="1.0"?><w:document/>')
    return out.getvalue()


ODT_CONTENT = (
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
    ' office:version="1.3"><office:body><office:text/></office:body></office:document-content>'
)
ODT_MANIFEST = (
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
    '<manifest:file-entry manifest:full-path="/" '
    'manifest:media-type="application/vnd.oasis.opendocument.text"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def odt_document() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"),
            "application/vnd.oasis.opendocument.text",
            zipfile.ZIP_STORED,
        )
        archive.writestr("META-INF/manifest.xml", ODT_MANIFEST, zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", ODT_CONTENT, zipfile.ZIP_DEFLATED)
    return out.getvalue()
