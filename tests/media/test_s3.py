"""The S3 backend against a real S3 server (SeaweedFS): multipart uploads, aborted
failures, stale uploads of killed processes, renditions made once across processes
(Redis lock), presigned redirects, an unreachable bucket, and `media-migrate`.
(The rest of the media suite runs on S3 too, through the `media_app` fixture.)"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from cms.models import MediaAsset
from cms.settings import Settings, SettingsError, load_settings
from media import renditions
from media.migrate import library_keys, migrate_to_s3
from media.renditions import WEBP, RenditionMaker, RenditionSpec
from media.s3 import S3Storage
from media.storage import LocalStorage, StorageUnavailableError
from tests.conftest import TestDatabase, make_settings
from tests.editing.helpers import sign_in
from tests.feedback.conftest import free_port
from tests.media.conftest import (
    MediaApp,
    jpeg_with_gps,
    make_media_app,
    payload,
    pdf_document,
    png_image,
)
from tests.media.s3server import S3Server, new_prefix

MIB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[2]


def s3_settings(server: S3Server, tmp_path: Path, **extra: str) -> Settings:
    environ = {
        **server.environ(new_prefix()),
        "CMS_MEDIA_ROOT": str(tmp_path / "media"),
        "CMS_SECRET_KEY": "test-secret-key-not-for-production",
        **extra,
    }
    return load_settings(environ)


@pytest.fixture
async def storage(s3_server: S3Server, tmp_path: Path) -> AsyncIterator[S3Storage]:
    store = S3Storage(s3_settings(s3_server, tmp_path, CMS_S3_PART_SIZE=str(5 * MIB)))
    try:
        yield store
    finally:
        await store.close()


async def chunks(data: bytes, size: int = 256 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def read_all(storage: S3Storage, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in storage.read(key, start, end)])


# ---------------------------------------------------------------- the storage itself


async def test_objects_are_written_read_in_ranges_and_deleted(
    storage: S3Storage, s3_server: S3Server
) -> None:
    assert await storage.save("ab/cd/file.bin", chunks(b"hello world")) == 11
    assert await storage.exists("ab/cd/file.bin")
    assert await storage.size("ab/cd/file.bin") == 11
    assert await read_all(storage, "ab/cd/file.bin") == b"hello world"
    assert await read_all(storage, "ab/cd/file.bin", 6, 9) == b"wor"
    assert await read_all(storage, "ab/cd/file.bin", 6) == b"world"
    assert await read_all(storage, "ab/cd/file.bin", 3, 3) == b""
    # Under the prefix, nowhere else.
    assert s3_server.keys(storage.prefix) == {"ab/cd/file.bin": 11}
    with pytest.raises(FileNotFoundError):
        await read_all(storage, "ab/cd/missing.bin")
    async with storage.local_copy("ab/cd/file.bin") as path:
        assert path.read_bytes() == b"hello world"
        assert path.parent == storage.staging_dir
    assert not path.exists()

    assert await storage.delete("ab/cd/file.bin")
    assert not await storage.delete("ab/cd/file.bin")
    assert await storage.size("ab/cd/file.bin") is None

    for name in ("w320.webp", "w640.webp", "w640-16x9-cover.jpg"):
        await storage.save(f"renditions/ab/abcd/{name}", chunks(b"x"))
    await storage.save("renditions/ab/abcdef/w320.webp", chunks(b"other"))
    await storage.delete_prefix("renditions/ab/abcd")
    assert s3_server.keys(storage.prefix) == {"renditions/ab/abcdef/w320.webp": 5}


async def test_large_files_go_up_in_parts(storage: S3Storage, s3_server: S3Server) -> None:
    data = os.urandom(11 * MIB + 12345)  # two full parts of 5 MiB and a short one
    assert await storage.save("ab/cd/big.bin", chunks(data)) == len(data)
    assert await storage.size("ab/cd/big.bin") == len(data)
    assert await read_all(storage, "ab/cd/big.bin") == data
    assert (
        await read_all(storage, "ab/cd/big.bin", 5 * MIB - 10, 5 * MIB + 10)
        == data[5 * MIB - 10 : 5 * MIB + 10]
    )
    assert s3_server.multipart_uploads(storage.prefix) == []


async def test_a_failed_upload_leaves_no_object_and_no_parts(
    storage: S3Storage, s3_server: S3Server
) -> None:
    async def broken() -> AsyncIterator[bytes]:
        async for chunk in chunks(os.urandom(7 * MIB)):  # a part is already up
            yield chunk
        raise OSError("the sender went away")

    with pytest.raises(OSError, match="went away"):
        await storage.save("ab/cd/broken.bin", broken())
    assert s3_server.keys(storage.prefix) == {}
    assert s3_server.multipart_uploads(storage.prefix) == []


async def test_uploads_left_by_a_killed_process_are_aborted(
    storage: S3Storage, s3_server: S3Server
) -> None:
    client = s3_server.client()
    name = f"{storage.prefix}/ab/cd/killed.bin"
    created = client.create_multipart_upload(Bucket=s3_server.bucket, Key=name)
    client.upload_part(
        Bucket=s3_server.bucket,
        Key=name,
        UploadId=created["UploadId"],
        PartNumber=1,
        Body=b"x" * (5 * MIB),
    )
    assert s3_server.keys(storage.prefix) == {}  # never visible as an object
    # A young upload may be a live process's: kept.
    assert await storage.abort_stale_uploads(older_than=3600) == 0
    assert s3_server.multipart_uploads(storage.prefix) == ["ab/cd/killed.bin"]
    assert await storage.abort_stale_uploads(older_than=0) == 1
    assert s3_server.multipart_uploads(storage.prefix) == []


async def test_an_unreachable_bucket_is_reported_not_crashed(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    settings = load_settings(
        {
            "CMS_MEDIA_STORAGE": "s3",
            "CMS_S3_ENDPOINT": f"http://127.0.0.1:{port}",
            "CMS_S3_BUCKET": "media",
            "CMS_S3_ACCESS_KEY": "key",
            "CMS_S3_SECRET_KEY": "secret",
            "CMS_MEDIA_ROOT": str(tmp_path / "media"),
            "CMS_SECRET_KEY": "test-secret-key-not-for-production",
        }
    )
    store = S3Storage(settings)
    try:
        problem = await store.problem()
        assert problem is not None
        assert "S3 head bucket" in problem
        with pytest.raises(StorageUnavailableError):
            await store.size("ab/cd/x.bin")
    finally:
        await store.close()


def test_s3_settings_are_checked() -> None:
    with pytest.raises(SettingsError) as missing:
        load_settings({"CMS_MEDIA_STORAGE": "s3", "CMS_S3_SECRET_KEY": "very-secret"})
    message = str(missing.value)
    for name in ("CMS_S3_ENDPOINT", "CMS_S3_BUCKET", "CMS_S3_ACCESS_KEY"):
        assert name in message
    assert "very-secret" not in message
    with pytest.raises(SettingsError, match="CMS_S3_PREFIX"):
        load_settings({"CMS_S3_PREFIX": "../Other"})
    with pytest.raises(SettingsError, match="CMS_S3_ENDPOINT"):
        load_settings({"CMS_S3_ENDPOINT": "storage.example"})
    with pytest.raises(SettingsError, match="CMS_S3_PART_SIZE"):
        load_settings({"CMS_S3_PART_SIZE": "1000"})
    with pytest.raises(SettingsError, match="CMS_MEDIA_STORAGE"):
        load_settings({"CMS_MEDIA_STORAGE": "ftp"})
    settings = load_settings({"CMS_S3_SECRET_KEY": "very-secret", "CMS_S3_PREFIX": "/cms/media/"})
    assert settings.s3_prefix == "cms/media"
    assert "very-secret" not in repr(settings)


# ---------------------------------------------------------------- renditions across processes


async def test_a_rendition_is_made_once_by_processes_sharing_redis(
    s3_server: S3Server, tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two makers (as in two processes: their own storage clients, their own local
    locks) asked at once for the same rendition: one makes it, both return it."""
    made: list[str] = []
    real_render = renditions.render

    def counting_render(*arguments: Any) -> None:
        made.append(str(arguments[3]))
        real_render(*arguments)

    monkeypatch.setattr(renditions, "render", counting_render)
    environ = {**s3_server.environ(new_prefix()), "CMS_SECRET_KEY": "x" * 32}
    stores = [
        S3Storage(load_settings({**environ, "CMS_MEDIA_ROOT": str(tmp_path / name)}))
        for name in ("a", "b")
    ]
    redis = Redis.from_url(redis_url)
    lock_prefix = f"cms-test-{new_prefix()}:media"
    try:
        source = tmp_path / "source.jpg"
        source.write_bytes(jpeg_with_gps((800, 600), orientation=1))
        await stores[0].save("ab/cd/source.jpg", chunks(source.read_bytes()))
        makers = [RenditionMaker(store, 2, lock_prefix=lock_prefix) for store in stores]
        spec = RenditionSpec(320, None, renditions.Fit.COVER, WEBP)
        keys = await asyncio.gather(
            *(
                maker.ensure("ab/cd/source.jpg", "ab" * 32, spec, (800, 600), redis)
                for maker in makers
            )
        )
        assert keys[0] == keys[1] == f"renditions/ab/{'ab' * 32}/w320.webp"
        assert len(made) == 1
        assert await stores[1].exists(keys[0])
        # Asked again by either: found, not made.
        await makers[1].ensure("ab/cd/source.jpg", "ab" * 32, spec, (800, 600), redis)
        assert len(made) == 1
    finally:
        for store in stores:
            await store.close()
        await redis.aclose()


# ---------------------------------------------------------------- serving


@pytest.fixture
async def presigning_app(
    db: TestDatabase, tmp_path: Path, s3_server: S3Server
) -> AsyncIterator[MediaApp]:
    async for app in make_media_app(db, tmp_path / "media", s3_server, CMS_S3_PRESIGN="on"):
        yield app


async def test_presigned_redirects_serve_from_the_bucket(presigning_app: MediaApp) -> None:
    app = presigning_app
    await sign_in(app.client, "editor")
    photo = jpeg_with_gps((400, 300), orientation=1)
    image = payload(await app.upload_graphql(photo, "p.jpg", alt="Фото", public=True))["asset"]
    document = payload(await app.upload_graphql(pdf_document(), "План работ.pdf", alt=None))
    staff = app.client.headers

    redirect = await app.http.get(app.local(image["url"]))
    assert redirect.status_code == 307
    assert redirect.headers["cache-control"] == "public, max-age=450"
    async with httpx.AsyncClient(timeout=30) as http:
        direct = await http.get(redirect.headers["location"])
        assert direct.status_code == 200
        assert direct.headers["content-type"] == "image/jpeg"
        assert len(direct.content) == image["size"]

        sha256 = image["url"].rsplit("/", 1)[1].split(".")[0]
        rendition_path = f"/media/renditions/{sha256[:2]}/{sha256}/w320.webp"
        made = await app.http.get(rendition_path)
        assert made.status_code == 307
        rendition = await http.get(made.headers["location"])
        assert rendition.status_code == 200
        assert rendition.headers["content-type"] == "image/webp"

        # Not public: nothing for outsiders, a private redirect for staff.
        path = app.local(document["asset"]["url"])
        assert (await app.http.get(path)).status_code == 404
        private = await app.http.get(path, headers=staff)
        assert private.status_code == 307
        assert private.headers["cache-control"] == "private, no-store"
        download = await http.get(private.headers["location"])
        assert download.status_code == 200
        assert download.headers["content-disposition"].startswith("attachment;")
        assert download.content == pdf_document()


async def test_an_unreachable_bucket_answers_503_and_stores_nothing(
    db: TestDatabase, tmp_path: Path
) -> None:
    port = free_port()
    async for app in make_media_app(
        db,
        tmp_path / "media",
        CMS_MEDIA_STORAGE="s3",
        CMS_S3_ENDPOINT=f"http://127.0.0.1:{port}",
        CMS_S3_BUCKET="media",
        CMS_S3_ACCESS_KEY="key",
        CMS_S3_SECRET_KEY="secret",
    ):
        await sign_in(app.client, "editor")
        before = await MediaAsset.all().count()
        for response in (
            await app.upload_http(png_image(), "a.png", alt="Картинка"),
            await app.upload_graphql(png_image(), "a.png", alt="Картинка"),
        ):
            assert response.status_code == 503, response.text
            (error,) = response.json()["errors"]
            assert (error.get("code") or error["extensions"]["code"]) == "STORAGE_UNAVAILABLE"
            assert "Хранилище файлов не отвечает" in error["message"]
        assert await MediaAsset.all().count() == before
        assert app.stored_files() == []  # staged files removed
        missing = await app.http.get(f"/media/ab/cd/{'ab' + 'cd' * 31}.png")
        assert missing.status_code == 404
        # A file the database knows, from a bucket that does not answer: 503, not 500.
        sha256 = "ab" + "cd" * 31
        await MediaAsset.create(
            storage_key=f"ab/cd/{sha256}.pdf",
            sha256=sha256,
            file_name="d.pdf",
            mime_type="application/pdf",
            size=10,
            public=True,
        )
        unavailable = await app.http.get(f"/media/ab/cd/{sha256}.pdf")
        assert unavailable.status_code == 503
        assert unavailable.json()["errors"][0]["extensions"]["code"] == "STORAGE_UNAVAILABLE"
        assert unavailable.headers["cache-control"] == "no-store"
        ready = await app.http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["media"] == "error"


# ---------------------------------------------------------------- media-migrate


async def run_cli(command: list[str], environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run, command, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )


async def test_a_local_library_is_copied_to_s3_and_served_from_there(
    db: TestDatabase, tmp_path: Path, s3_server: S3Server
) -> None:
    root = tmp_path / "media"
    async for local in make_media_app(db, root):
        await sign_in(local.client, "editor")
        photo = payload(
            await local.upload_graphql(jpeg_with_gps((500, 400)), "p.jpg", alt="Фото", public=True)
        )["asset"]
        sha256 = photo["url"].rsplit("/", 1)[1].split(".")[0]
        rendition_path = f"/media/renditions/{sha256[:2]}/{sha256}/w320.webp"
        assert (await local.http.get(rendition_path)).status_code == 200
        payload(await local.upload_graphql(pdf_document(), "d.pdf", alt=None))
        expected = await local.http.get(local.local(photo["url"]))
    keys = library_keys(root)
    assert len(keys) == 3
    (root / "notes.TXT").write_text("a stray file")

    prefix = new_prefix()
    environ = {**s3_server.environ(prefix), "CMS_MEDIA_STORAGE": "local"}
    settings = make_settings(db.url, CMS_MEDIA_ROOT=str(root), **environ)
    lines: list[str] = []
    first = await migrate_to_s3(settings, lines.append)
    assert (first.copied, first.skipped, first.ignored) == (3, 0, 1)
    assert lines[0] == f"4 files under {root}"
    assert any(line.endswith("copied, " + str(photo["size"]) + " bytes") for line in lines)
    assert s3_server.keys(prefix) == {key: (root / key).stat().st_size for key in keys}

    # Interrupted and run again: what is there is skipped, what is missing is copied.
    s3_server.client().delete_object(Bucket=s3_server.bucket, Key=f"{prefix}/{keys[0]}")
    command = [sys.executable, "-m", "cms", "media-migrate", "--to", "s3"]
    cli_env = {
        **os.environ,
        **environ,
        "CMS_DATABASE_URL": db.url,
        "CMS_MEDIA_ROOT": str(root),
        "CMS_SECRET_KEY": "test-secret-key-not-for-production",
    }
    done = await run_cli(command, cli_env)
    assert done.returncode == 0, done.stderr
    assert f"[1/4] {keys[0]}: copied" in done.stdout
    assert "done: 1 copied" in done.stdout
    assert "2 already there, 1 left out" in done.stdout
    assert len(s3_server.keys(prefix)) == 3

    # The same database on S3 (another, empty local root) serves the library.
    async for remote in make_media_app(db, tmp_path / "other", s3_server, CMS_S3_PREFIX=prefix):
        served = await remote.http.get(remote.local(photo["url"]))
        assert served.status_code == 200
        assert served.content == expected.content
        assert (await remote.http.get(rendition_path)).status_code == 200
    assert not (tmp_path / "other").exists() or not [
        path for path in (tmp_path / "other").rglob("*") if path.is_file()
    ]


async def test_media_migrate_says_what_is_missing(tmp_path: Path) -> None:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("CMS_S3_")}
    done = await run_cli(
        [sys.executable, "-m", "cms", "media-migrate", "--to", "s3"],
        {**environ, "CMS_MEDIA_ROOT": str(tmp_path), "CMS_SECRET_KEY": "x" * 32},
    )
    assert done.returncode == 1
    assert "CMS_S3_ENDPOINT, CMS_S3_BUCKET" in done.stderr
    assert "Traceback" not in done.stderr


async def test_local_storage_has_no_direct_urls(tmp_path: Path) -> None:
    assert await LocalStorage(tmp_path).direct_url("ab/x.png", "image/png", "inline") is None
