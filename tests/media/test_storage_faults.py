"""Faults of the media storage, for real: a full disk (a 64 KiB tmpfs), a read-only one,
a root that cannot exist (/dev/null/...). Uploads answer 507 or 503 with a reason and
leave no file; stale staged files go at start; /readyz tells an unwritable root."""

import io
import os
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from cms.models import MediaAsset
from tests.conftest import TestDatabase, make_settings
from tests.editing.helpers import sign_in
from tests.media.conftest import MediaApp, make_media_app
from web.app import create_app

ROUTES = ["graphql", "http"]
TINY = 64 * 1024


def mount_tmpfs(path: Path, *options: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({result.stderr.strip()}): needs root")


def unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 64 KiB filesystem: writes past it fail with ENOSPC."""
    disk = tmp_path / "tiny"
    mount_tmpfs(disk, f"size={TINY}")
    yield disk
    unmount(disk)


@pytest.fixture
async def full_disk_app(db: TestDatabase, tiny_disk: Path) -> AsyncIterator[MediaApp]:
    async for app in make_media_app(db, tiny_disk / "media"):
        yield app


def noise_png(side: int) -> bytes:
    """Random pixels: PNG cannot compress them, the re-encoded copy is as large."""
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, "PNG")
    return out.getvalue()


async def upload(app: MediaApp, route: str, content: bytes, name: str) -> httpx.Response:
    await sign_in(app.client, "editor")
    if route == "graphql":
        return await app.upload_graphql(content, name, alt="Шум")
    return await app.upload_http(content, name, alt="Шум")


def assert_storage_refusal(response: httpx.Response, status: int, code: str, words: str) -> None:
    assert response.status_code == status, response.text
    (error,) = response.json()["errors"]
    code_found = error.get("code") or error["extensions"]["code"]
    assert code_found == code, error
    assert words in error["message"], error["message"]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "content",
    [
        pytest.param(noise_png(400), id="staging-fills-the-disk"),  # ~470 KiB received
        pytest.param(noise_png(110), id="re-encoding-fills-the-disk"),  # ~36 KiB, twice
    ],
)
async def test_a_full_disk_is_507_and_leaves_no_file(
    full_disk_app: MediaApp, route: str, content: bytes
) -> None:
    response = await upload(full_disk_app, route, content, "noise.png")
    assert_storage_refusal(response, 507, "INSUFFICIENT_STORAGE", "закончилось место")
    assert full_disk_app.stored_files() == []  # staged and temporary files too
    assert await MediaAsset.all().count() == 0
    # The space is free again: a small file fits.
    small = await upload(full_disk_app, route, noise_png(16), "small.png")
    assert small.status_code in (200, 201), small.text
    assert await MediaAsset.all().count() == 1


@pytest.fixture
async def unwritable_app(db: TestDatabase) -> AsyncIterator[MediaApp]:
    # Not a permission (root ignores those): a path under a file cannot be created.
    async for app in make_media_app(db, Path("/dev/null/media")):
        yield app


@pytest.mark.parametrize("route", ROUTES)
async def test_an_unwritable_root_answers_503(unwritable_app: MediaApp, route: str) -> None:
    response = await upload(unwritable_app, route, noise_png(16), "a.png")
    assert_storage_refusal(response, 503, "STORAGE_UNAVAILABLE", "недоступно для записи")
    assert await MediaAsset.all().count() == 0


async def test_readyz_reports_an_unwritable_root(unwritable_app: MediaApp) -> None:
    response = await unwritable_app.http.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == "ok"
    assert body["media"].startswith("error")


async def test_readyz_reports_a_read_only_root(db: TestDatabase, tmp_path: Path) -> None:
    disk = tmp_path / "ro"
    mount_tmpfs(disk, "size=64k", "ro")
    try:
        async for app in make_media_app(db, disk / "media"):
            response = await app.http.get("/readyz")
            assert response.status_code == 503
            assert response.json()["media"].startswith("error")
            refused = await upload(app, "http", noise_png(16), "a.png")
            assert_storage_refusal(refused, 503, "STORAGE_UNAVAILABLE", "недоступно для записи")
    finally:
        unmount(disk)


async def test_readyz_says_media_ok(media_app: MediaApp) -> None:
    response = await media_app.http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "media": "ok"}


async def test_stale_staged_files_are_swept_at_start(db: TestDatabase, tmp_path: Path) -> None:
    """What a killed process left in .staging goes when a server starts; files being
    written now (by another process on the same root) stay."""
    staging = tmp_path / "media" / ".staging"
    staging.mkdir(parents=True)
    stale = staging / "killed-upload.upload.part"
    stale.write_bytes(b"x" * 1000)
    hours_ago = time.time() - 3 * 3600
    os.utime(stale, (hours_ago, hours_ago))
    fresh = staging / "in-progress.upload.part"
    fresh.write_bytes(b"y")
    app = create_app(
        make_settings(db.url, CMS_MEDIA_ROOT=str(tmp_path / "media")), manage_database=False
    )
    async with app.router.lifespan_context(app):
        assert not stale.exists()
        assert fresh.exists()


async def test_an_unwritable_root_is_logged_at_start(
    db: TestDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(make_settings(db.url, CMS_MEDIA_ROOT="/dev/null/media"), manage_database=False)
    with caplog.at_level("ERROR", logger="cms.media"):
        async with app.router.lifespan_context(app):
            pass
    assert any("/dev/null/media" in record.getMessage() for record in caplog.records)
