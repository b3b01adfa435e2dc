"""Faults of the media storage itself (a full disk, a root that cannot be written),
told apart from bad files: the upload is not the sender's fault, so it is answered
507 or 503 with a reason, never "file damaged" or a bare 500. Both upload routes
receive files through `media.staging.staged_file`, which turns such an OSError into
a StorageFaultError; and the root is checked at start and by /readyz."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

from media.storage import StorageUnavailableError, temporary_path

logger = logging.getLogger("cms.media")

_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_UNWRITABLE = frozenset({errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR})
# Staged files untouched for this long belong to no live upload (a receiving upload
# writes as its bytes arrive; checking and storing take seconds): a process killed
# mid-upload left them. Younger ones may be another process's on the same root.
STALE_AFTER_SECONDS = 3600


class StorageFaultError(Exception):
    """The file could not be stored for a reason of the server's; `status` is the HTTP
    status to answer, `code` the error code, `message` the reason in Russian."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def is_storage_fault(error: OSError) -> bool:
    return error.errno in _FULL or error.errno in _UNWRITABLE


def storage_fault(error: OSError) -> StorageFaultError | None:
    """The answer for an OSError of the storage, or None when it is not one of its faults."""
    if isinstance(error, StorageUnavailableError):
        return StorageFaultError(
            503,
            "STORAGE_UNAVAILABLE",
            "Хранилище файлов не отвечает: файл не сохранён. Повторите загрузку позже; "
            "если не получится, сообщите администратору.",
        )
    if error.errno in _FULL:
        return StorageFaultError(
            507,
            "INSUFFICIENT_STORAGE",
            "На сервере закончилось место для файлов: файл не сохранён. Сообщите "
            "администратору и повторите загрузку позже.",
        )
    if error.errno in _UNWRITABLE:
        return StorageFaultError(
            503,
            "STORAGE_UNAVAILABLE",
            "Хранилище файлов недоступно для записи: файл не сохранён. Сообщите "
            "администратору и повторите загрузку позже.",
        )
    return None


@contextlib.contextmanager
def storage_faults() -> Iterator[None]:
    """Turns the storage's own faults raised in the block into StorageFaultError,
    logged for the administrator; other errors pass unchanged."""
    try:
        yield
    except OSError as error:
        fault = storage_fault(error)
        if fault is None:
            raise
        logger.error("media storage fault: %s", error)
        raise fault from error


def root_problem(root: Path) -> str | None:
    """Why files cannot be written under `root` (a probe file is written, synced and
    removed in its staging folder), or None when they can."""
    staging = root / ".staging"
    try:
        staging.mkdir(parents=True, exist_ok=True)
        probe = temporary_path(staging, ".probe")
        try:
            with probe.open("wb") as file:
                file.write(b"ok")
                file.flush()
                os.fsync(file.fileno())
        finally:
            probe.unlink(missing_ok=True)
    except OSError as error:
        return f"{root}: {error.strerror or error}"
    return None


def sweep_stale(staging: Path, older_than: float = STALE_AFTER_SECONDS) -> int:
    """Removes staged files (*.part) not written for `older_than` seconds; how many."""
    limit = time.time() - older_than
    removed = 0
    try:
        candidates = list(staging.glob("*.part"))
    except OSError:
        return 0
    for path in candidates:
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
    return removed


def check_at_start(root: Path) -> str | None:
    """The start-up check of a media root: stale staged files swept, writability
    tested; a problem is logged (reads still work, /readyz reports it)."""
    problem = root_problem(root)
    if problem is not None:
        logger.error("media root is not writable, uploads will fail: %s", problem)
        return problem
    removed = sweep_stale(root / ".staging")
    if removed:
        logger.warning("removed %d stale staged upload file(s) from %s", removed, root)
    return None
