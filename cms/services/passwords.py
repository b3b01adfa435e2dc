"""Password hashing with Argon2id (argon2-cffi, the reference implementation's binding).

Argon2 is slow on purpose (tens of milliseconds of CPU and 64 MiB per check), so it
never runs on the event loop: a check there would stall every other request. Logins
verify in a `PasswordPool` of a few threads with a bounded queue (argon2-cffi
releases the GIL while it hashes); hashing a new password (admins' actions, rare)
uses the loop's default executor.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from cms.errors import Code, FieldError

MIN_LENGTH = 10
MAX_LENGTH = 1024

_hasher = PasswordHasher()
# Verified when an e-mail is unknown, so that a failed login takes as long either way.
_DUMMY_HASH = _hasher.hash("not-a-real-password-only-for-timing")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


class PasswordPoolBusyError(Exception):
    """Every thread is busy and the queue is full: the check was not made."""


class PasswordPool:
    """Verifies passwords in `threads` threads; at most `queue` checks wait for one.
    A burst beyond that is refused at once rather than queued without end, so a flood
    of logins cannot grow the wait (and the memory) of everyone else's."""

    def __init__(self, threads: int, queue: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="argon2")
        self._capacity = threads + queue
        # Checks running or waiting; changed only on the event loop's thread.
        self._pending = 0

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether `password` matches `password_hash` (None: an unknown or disabled
        account, checked against a dummy hash so that it takes as long)."""
        if self._pending >= self._capacity:
            raise PasswordPoolBusyError
        self._pending += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, _verify, password_hash, password)
        finally:
            self._pending -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def password_problems(password: str, field: tuple[str, ...]) -> list[FieldError]:
    if len(password) < MIN_LENGTH:
        return [FieldError(field, Code.TOO_SHORT, f"Пароль короче {MIN_LENGTH} символов.")]
    if len(password) > MAX_LENGTH:
        return [FieldError(field, Code.TOO_LONG, f"Пароль длиннее {MAX_LENGTH} символов.")]
    return []
