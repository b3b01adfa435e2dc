"""Password hashing with Argon2id (argon2-cffi, the reference implementation's binding)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from cms.errors import Code, FieldError

MIN_LENGTH = 10
MAX_LENGTH = 1024

_hasher = PasswordHasher()
# Verified when an e-mail is unknown, so that a failed login takes as long either way.
_DUMMY_HASH = _hasher.hash("not-a-real-password-only-for-timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problems(password: str, field: tuple[str, ...]) -> list[FieldError]:
    if len(password) < MIN_LENGTH:
        return [FieldError(field, Code.TOO_SHORT, f"Пароль короче {MIN_LENGTH} символов.")]
    if len(password) > MAX_LENGTH:
        return [FieldError(field, Code.TOO_LONG, f"Пароль длиннее {MAX_LENGTH} символов.")]
    return []
