"""Real server processes (uvicorn) on one database and one S3 bucket, each with its own
local media root: what one stores the other serves, renditions included; an upload
cut off by the client or by SIGKILL leaves no object and no row."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from PIL import Image

from cms.models import MediaAsset
from media.s3 import S3Storage
from tests.conftest import TestDatabase, make_settings
from tests.editing.helpers import sign_in
from tests.feedback.test_two_processes import server_process, wait_ready
from tests.media.conftest import PREFLIGHT, GraphQLClient, jpeg_with_gps
from tests.media.s3server import S3Server, new_prefix

DELETE = "mutation($id: ID!) { deleteMedia(id: $id) { deletedId errors { code message } } }"


def environ(
    db: TestDatabase, s3: S3Server, prefix: str, root: Path, **extra: str
) -> dict[str, str]:
    return {
        **s3.environ(prefix),
        "CMS_DATABASE_URL": db.url,
        "CMS_SECRET_KEY": "test-secret-key-not-for-production",
        "CMS_MEDIA_ROOT": str(root),
        "CMS_ACCESS_LOG": "off",
        **extra,
    }


async def staff_headers() -> dict[str, str]:
    client = GraphQLClient(httpx.AsyncClient())
    await sign_in(client, "editor")
    await client.http.aclose()
    return {**client.headers, **PREFLIGHT}


def local_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


async def test_one_process_stores_another_serves(
    db: TestDatabase, s3_server: S3Server, tmp_path: Path
) -> None:
    prefix = new_prefix()
    headers = await staff_headers()
    photo = jpeg_with_gps((900, 600), orientation=1)
    with (
        server_process(environ(db, s3_server, prefix, tmp_path / "a"), tmp_path / "a.log") as (
            first,
            first_process,
        ),
        server_process(environ(db, s3_server, prefix, tmp_path / "b"), tmp_path / "b.log") as (
            second,
            second_process,
        ),
    ):
        async with httpx.AsyncClient(timeout=60) as http:
            await wait_ready(http, first, first_process)
            await wait_ready(http, second, second_process)
            uploaded = await http.post(
                f"{first}/media",
                data={"alt": "Делегация"},
                files={"file": ("visit.jpg", photo, "image/jpeg")},
                headers=headers,
            )
            assert uploaded.status_code == 201, uploaded.text
            asset = uploaded.json()
            path = "/media/" + asset["url"].split("/media/", 1)[1]
            sha256 = path.rsplit("/", 1)[1].split(".")[0]

            original = await http.get(f"{second}{path}", headers=headers)
            assert original.status_code == 200
            assert hashlib.sha256(original.content).hexdigest() == sha256
            assert original.headers["etag"] == f'"{sha256}"'
            assert original.headers["cache-control"] == "private, no-cache"
            part = await http.get(f"{second}{path}", headers={**headers, "range": "bytes=0-9"})
            assert part.status_code == 206
            assert part.content == original.content[:10]
            assert part.headers["content-range"] == f"bytes 0-9/{len(original.content)}"
            again = await http.get(
                f"{second}{path}", headers={**headers, "if-none-match": original.headers["etag"]}
            )
            assert again.status_code == 304

            # A rendition made by the first process is found by the second, and the
            # other way round; each exists once in the bucket.
            folder = f"/media/renditions/{sha256[:2]}/{sha256}"
            for maker, reader, name in ((first, second, "w320.webp"), (second, first, "w640.jpg")):
                made = await http.get(f"{maker}{folder}/{name}", headers=headers)
                assert made.status_code == 200, made.text
                stamp = s3_server.client().head_object(
                    Bucket=s3_server.bucket, Key=f"{prefix}/renditions/{sha256[:2]}/{sha256}/{name}"
                )["LastModified"]
                served = await http.get(f"{reader}{folder}/{name}", headers=headers)
                assert served.status_code == 200
                assert served.content == made.content
                assert Image.open(io.BytesIO(served.content)).size[0] == int(name[1:4])
                assert (
                    s3_server.client().head_object(
                        Bucket=s3_server.bucket,
                        Key=f"{prefix}/renditions/{sha256[:2]}/{sha256}/{name}",
                    )["LastModified"]
                    == stamp
                )
            assert sorted(s3_server.keys(prefix)) == [
                path.removeprefix("/media/"),
                f"renditions/{sha256[:2]}/{sha256}/w320.webp",
                f"renditions/{sha256[:2]}/{sha256}/w640.jpg",
            ]
            # Neither local root holds media: only (empty) staging folders.
            assert local_files(tmp_path / "a") == local_files(tmp_path / "b") == []

            # Deleted through the second: its objects go, both processes answer 404.
            deleted = await http.post(
                f"{second}/graphql",
                json={"query": DELETE, "variables": {"id": asset["id"]}},
                headers=headers,
            )
            assert deleted.json()["data"]["deleteMedia"]["errors"] == []
            assert s3_server.keys(prefix) == {}
            for base in (first, second):
                assert (await http.get(f"{base}{path}", headers=headers)).status_code == 404
                gone = await http.get(f"{base}{folder}/w320.webp", headers=headers)
                assert gone.status_code == 404


def noise_png(side: int) -> bytes:
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, "PNG")
    return out.getvalue()


def multipart_request(headers: dict[str, str], content: bytes) -> tuple[bytes, bytes]:
    """The head and body of POST /media, written by hand to be cut off at will."""
    boundary = "cms-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="alt"\r\n\r\nШум\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="noise.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    lines = [
        "POST /media HTTP/1.1",
        "Host: 127.0.0.1",
        f"Content-Type: multipart/form-data; boundary={boundary}",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode(), body


async def wait_for(condition: Callable[[], object], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await asyncio.to_thread(condition):
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"timed out waiting for {what}")


async def test_a_client_that_disconnects_half_way_leaves_nothing(
    db: TestDatabase, s3_server: S3Server, tmp_path: Path
) -> None:
    prefix = new_prefix()
    headers = await staff_headers()
    root = tmp_path / "media"
    before = await MediaAsset.all().count()
    with server_process(environ(db, s3_server, prefix, root), tmp_path / "a.log") as (
        base,
        process,
    ):
        async with httpx.AsyncClient(timeout=60) as http:
            await wait_ready(http, base, process)
        head, body = multipart_request(headers, noise_png(600))
        port = int(base.rsplit(":", 1)[1])
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head + body[: len(body) // 2])
        await writer.drain()
        staging = root / ".staging"
        await wait_for(lambda: any(staging.glob("*.part")), 10, "the upload to be staged")
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
        await wait_for(lambda: not any(staging.glob("*.part")), 10, "the staged file to go")
        assert process.poll() is None
    assert s3_server.keys(prefix) == {}
    assert s3_server.multipart_uploads(prefix) == []
    assert await MediaAsset.all().count() == before


async def test_a_server_killed_mid_upload_leaves_no_object_and_no_row(
    db: TestDatabase, s3_server: S3Server, tmp_path: Path
) -> None:
    """SIGKILL while the file goes up to the bucket in parts: the multipart upload
    stays incomplete (never an object) and the row's transaction never commits; the
    next start aborts the upload."""
    prefix = new_prefix()
    headers = await staff_headers()
    root = tmp_path / "media"
    before = await MediaAsset.all().count()
    content = noise_png(3200)  # about 30 MB: six parts of 5 MiB
    extra = {"CMS_S3_PART_SIZE": str(5 * 1024 * 1024), "CMS_MEDIA_MAX_BYTES": str(64 * 1024**2)}
    with server_process(environ(db, s3_server, prefix, root, **extra), tmp_path / "a.log") as (
        base,
        process,
    ):
        async with httpx.AsyncClient(timeout=120) as http:
            await wait_ready(http, base, process)
            sending = asyncio.create_task(
                http.post(
                    f"{base}/media",
                    data={"alt": "Шум"},
                    files={"file": ("noise.png", content, "image/png")},
                    headers=headers,
                )
            )
            # One client, polled often: the parts go up within a fraction of a second.
            client = s3_server.client()

            def uploading() -> bool:
                assert not sending.done(), "the upload ended before it could be killed"
                answer = client.list_multipart_uploads(Bucket=s3_server.bucket, Prefix=f"{prefix}/")
                return bool(answer.get("Uploads"))

            await wait_for(uploading, 60, "a multipart upload")
            process.send_signal(signal.SIGKILL)
            process.wait()
            with pytest.raises(httpx.TransportError):
                await sending
    assert s3_server.keys(prefix) == {}
    assert len(s3_server.multipart_uploads(prefix)) == 1
    assert await MediaAsset.all().count() == before

    settings = make_settings(db.url, CMS_MEDIA_ROOT=str(root), **s3_server.environ(prefix))
    storage = S3Storage(settings)
    try:
        # What the start-up does (with an age limit, as other processes may be live).
        assert await storage.abort_stale_uploads(older_than=0) == 1
    finally:
        await storage.close()
    assert s3_server.multipart_uploads(prefix) == []
    assert s3_server.keys(prefix) == {}
