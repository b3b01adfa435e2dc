"""Receiving one uploaded file: streamed to a temporary file while it is counted and
hashed, refused as soon as it grows past the limit, removed on every way out (a full
disk included: that is a StorageFaultError, see media.faults)."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiofiles
import aiofiles.os

from media.faults import storage_faults
from media.storage import temporary_path


class FileTooLargeError(Exception):
    """The stream went past the size limit; what was received is already deleted."""


class StagedFile:
    """A file being received into `path`; `size` and `sha256` cover what was written."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.size = 0
        self._hash = hashlib.sha256()
        self._file: Any = None

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    async def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.max_bytes:
            raise FileTooLargeError
        self._hash.update(data)
        await self._file.write(data)

    async def close(self) -> None:
        # Forgotten first: closing flushes, which can fail (a full disk); the file is
        # closed all the same and must not be flushed again.
        file, self._file = self._file, None
        if file is not None:
            await file.close()


@contextlib.asynccontextmanager
async def staged_file(directory: Path, max_bytes: int) -> AsyncIterator[StagedFile]:
    """A StagedFile in `directory`, deleted when the block ends, whatever happens
    (a caller that keeps it moves it away first). The storage's own faults in the
    block (a full disk, an unwritable root) come out as StorageFaultError."""
    staged = StagedFile(temporary_path(directory, ".upload"), max_bytes)
    with storage_faults():
        try:
            await aiofiles.os.makedirs(directory, exist_ok=True)
            staged._file = await aiofiles.open(staged.path, "wb")
            yield staged
        finally:
            try:
                await staged.close()
            finally:
                with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                    await aiofiles.os.remove(staged.path)
