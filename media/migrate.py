"""Copying a local media library (CMS_MEDIA_ROOT) into the S3 bucket (CMS_S3_*):
`python -m cms media-migrate --to s3`. Originals and renditions keep their keys, so
the database needs no change; then set CMS_MEDIA_STORAGE=s3 and restart.

Resumable: an object already in the bucket with the same size is skipped (keys are
content hashes, so the same key and size is the same file), and each object appears
whole or not at all, so a copy stopped half-way is simply run again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cms.settings import Settings
from media.s3 import S3Storage
from media.storage import InvalidKeyError, LocalStorage, StorageUnavailableError, check_key

__all__ = ["MigrationError", "MigrationResult", "StorageUnavailableError", "migrate_to_s3"]


class MigrationError(Exception):
    """The copy cannot start or go on; the message says why (in English, for the CLI)."""


@dataclass
class MigrationResult:
    copied: int = 0
    skipped: int = 0  # already in the bucket with the same size
    ignored: int = 0  # files that are no media key (editor backups, stray files)
    copied_bytes: int = 0


def library_keys(root: Path) -> list[str]:
    """The keys of the files under `root`, sorted; the staging folder left out."""
    if not root.is_dir():
        return []
    return sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and path.relative_to(root).parts[0] != ".staging"
    )


async def migrate_to_s3(
    settings: Settings, progress: Callable[[str], None] = print
) -> MigrationResult:
    missing = [
        name
        for name, value in (
            ("CMS_S3_ENDPOINT", settings.s3_endpoint),
            ("CMS_S3_BUCKET", settings.s3_bucket),
            ("CMS_S3_ACCESS_KEY", settings.s3_access_key),
            ("CMS_S3_SECRET_KEY", settings.s3_secret_key),
        )
        if value is None
    ]
    if missing:
        raise MigrationError(f"set {', '.join(missing)} to copy the library to S3")
    source = LocalStorage(settings.media_root)
    target = S3Storage(settings)
    result = MigrationResult()
    try:
        problem = await target.problem()
        if problem is not None:
            raise MigrationError(problem)
        keys = library_keys(settings.media_root)
        progress(f"{len(keys)} files under {settings.media_root}")
        for number, key in enumerate(keys, start=1):
            try:
                check_key(key)
            except InvalidKeyError:
                result.ignored += 1
                progress(f"[{number}/{len(keys)}] {key}: not a media file, left out")
                continue
            size = await source.size(key)
            if size is None:  # removed while we ran
                continue
            if await target.size(key) == size:
                result.skipped += 1
                progress(f"[{number}/{len(keys)}] {key}: already in the bucket")
                continue
            copied = await target.save(key, source.read(key))
            if copied != size:
                raise MigrationError(f"{key} changed while it was copied; run the copy again")
            result.copied += 1
            result.copied_bytes += copied
            progress(f"[{number}/{len(keys)}] {key}: copied, {copied} bytes")
    finally:
        await target.close()
    progress(
        f"done: {result.copied} copied ({result.copied_bytes} bytes), {result.skipped} "
        f"already there, {result.ignored} left out"
    )
    return result
