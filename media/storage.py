"""Where media bytes live, behind one small interface.

Callers (uploads, renditions, the HTTP routes) speak only `Storage`; the local
disk is one backend, an S3-compatible bucket the other (media/s3.py). Keys are
relative, slash-separated names chosen by the CMS
(`ab/cd/<sha256>.jpg`, `renditions/ab/<sha256>/w640.webp`), never by a client.

Every write lands under a temporary name first and is renamed into place
(`os.replace`, atomic on one filesystem): a reader sees the whole file or none.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Protocol

import aiofiles
import aiofiles.os

CHUNK_SIZE = 64 * 1024
# Relative, lower-case, no empty or dot segments: a key can never leave the root.
_KEY = re.compile(r"^(?:[a-z0-9][a-z0-9_.-]*/)*[a-z0-9][a-z0-9_.-]*$")


def temporary_path(directory: Path, suffix: str = "") -> Path:
    """A fresh name in `directory` for a file being written."""
    return directory / f"{uuid.uuid4().hex}{suffix}.part"


class InvalidKeyError(ValueError):
    """A key that is not one the CMS would make (absolute, `..`, odd characters)."""


class StorageUnavailableError(OSError):
    """A remote storage did not answer or refused (media.faults answers 503)."""


def check_key(key: str) -> str:
    if len(key) > 300 or not _KEY.match(key) or ".." in key:
        raise InvalidKeyError(key)
    return key


class Storage(Protocol):
    # A local folder for files being received or generated; on local disk it is
    # on the same filesystem as the files, so that putting one in place is a rename.
    staging_dir: Path

    async def save(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Stores a stream under `key` atomically; returns its size."""

    async def put_file(self, key: str, path: Path) -> None:
        """Moves a finished local file (from `staging_dir`) to `key` atomically."""

    def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """The bytes of `key` from `start` up to `end` (exclusive), in chunks."""

    def local_copy(self, key: str) -> contextlib.AbstractAsyncContextManager[Path]:
        """A local file with the bytes of `key`, for libraries that need a path
        (Pillow); the local backend gives the file itself, remote ones a download."""

    async def exists(self, key: str) -> bool: ...

    async def size(self, key: str) -> int | None:
        """Bytes of `key`, or None when it is not stored."""

    async def delete(self, key: str) -> bool:
        """Removes `key`; False when it was not there."""

    async def delete_prefix(self, prefix: str) -> None:
        """Removes every key under `prefix/` (the renditions of one source)."""

    async def direct_url(self, key: str, content_type: str, disposition: str) -> str | None:
        """A URL that serves `key` itself (a presigned S3 URL), or None: the CMS
        streams it."""


class LocalStorage:
    """Files under one folder, written with aiofiles so that the event loop never waits
    on the disk."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.staging_dir = root / ".staging"

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def save(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        destination = self._path(key)
        await aiofiles.os.makedirs(self.staging_dir, exist_ok=True)
        temporary = temporary_path(self.staging_dir)
        size = 0
        try:
            async with aiofiles.open(temporary, "wb") as file:
                async for chunk in chunks:
                    size += len(chunk)
                    await file.write(chunk)
                await file.flush()
                await asyncio.to_thread(os.fsync, file.fileno())
            await aiofiles.os.makedirs(destination.parent, exist_ok=True)
            await aiofiles.os.replace(temporary, destination)
        finally:
            with contextlib.suppress(FileNotFoundError):
                await aiofiles.os.remove(temporary)
        return size

    async def put_file(self, key: str, path: Path) -> None:
        destination = self._path(key)
        await aiofiles.os.makedirs(destination.parent, exist_ok=True)
        await aiofiles.os.replace(path, destination)

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        remaining = None if end is None else max(0, end - start)
        async with aiofiles.open(self._path(key), "rb") as file:
            if start:
                await file.seek(start)
            while remaining is None or remaining > 0:
                size = CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining)
                chunk = await file.read(size)
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    @contextlib.asynccontextmanager
    async def local_copy(self, key: str) -> AsyncIterator[Path]:
        path = self._path(key)
        if not await aiofiles.os.path.isfile(path):
            raise FileNotFoundError(key)
        yield path

    async def exists(self, key: str) -> bool:
        return await aiofiles.os.path.isfile(self._path(key))

    async def size(self, key: str) -> int | None:
        try:
            return (await aiofiles.os.stat(self._path(key))).st_size
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> bool:
        try:
            await aiofiles.os.remove(self._path(key))
        except FileNotFoundError:
            return False
        return True

    async def delete_prefix(self, prefix: str) -> None:
        folder = self._path(prefix)
        await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)

    async def direct_url(self, key: str, content_type: str, disposition: str) -> str | None:
        return None  # files on local disk are served by the CMS only
