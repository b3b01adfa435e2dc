"""Accounts and credentials: users, logins, bearer tokens, integrators' API tokens.

Bearer tokens are random 256-bit secrets shown once; only their SHA-256 is
stored, so a stolen database holds no usable token. Passwords use Argon2id.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from tortoise.transactions import in_transaction

from cms.errors import Code, FieldError, ValidationFailedError
from cms.models import ApiToken, AuthSession, Role, TokenScope, User
from cms.services.network import client_address
from cms.services.passwords import (
    PasswordPool,
    PasswordPoolBusyError,
    hash_password,
    needs_rehash,
    password_problems,
)
from cms.services.ratelimit import RateLimiter
from cms.services.validation import Checker, normalize_email
from cms.services.viewer import Viewer
from cms.services.visibility import now
from cms.settings import Limit, Settings

SESSION_PREFIX = "cmsu_"
API_TOKEN_PREFIX = "cmst_"
# last_used_at is written at most this often per token: not a write per request.
_TOUCH_EVERY = timedelta(minutes=1)
INVALID_CREDENTIALS_MESSAGE = "Неверный e-mail или пароль."


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


# ---------------------------------------------------------------- bearer tokens


async def authenticate(token: str) -> Viewer | None:
    """The caller a bearer token stands for; None when it is unknown, expired or revoked."""
    moment = now()
    if token.startswith(SESSION_PREFIX):
        session = (
            await AuthSession.filter(
                token_hash=_digest(token), revoked_at__isnull=True, expires_at__gt=moment
            )
            .select_related("user")
            .first()
        )
        if session is None or not session.user.is_active:
            return None
        if session.last_used_at is None or moment - session.last_used_at > _TOUCH_EVERY:
            await AuthSession.filter(id=session.pk).update(last_used_at=moment)
        user = session.user
        return Viewer(user_id=user.pk, role=user.role, email=user.email, session_id=session.pk)
    if token.startswith(API_TOKEN_PREFIX):
        api_token = await ApiToken.filter(
            token_hash=_digest(token), revoked_at__isnull=True
        ).first()
        if api_token is None:
            return None
        if api_token.last_used_at is None or moment - api_token.last_used_at > _TOUCH_EVERY:
            await ApiToken.filter(id=api_token.pk).update(last_used_at=moment)
        return Viewer(
            token_id=api_token.pk,
            token_name=api_token.name,
            scopes=frozenset(TokenScope(scope) for scope in api_token.scopes),
        )
    return None


async def identify(
    authorization: str | None, peer: str | None, forwarded_for: str | None, settings: Settings
) -> Viewer | None:
    """The caller of an HTTP request (GraphQL and plain routes alike), from its
    `Authorization: Bearer` header and its address: anonymous without the header,
    None when credentials are sent but are not valid (answer 401)."""
    address = client_address(peer, forwarded_for, settings.trusted_proxies)
    if not authorization:
        return Viewer(address=address)
    scheme, _, token = authorization.partition(" ")
    found = await authenticate(token.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        return None
    return dataclasses.replace(found, address=address)


# ---------------------------------------------------------------- logging in and out


def _rate_limited(retry_after: int, message: str) -> ValidationFailedError:
    return ValidationFailedError(
        [FieldError(None, Code.RATE_LIMITED, message, retry_after=retry_after)]
    )


def _login_limits(
    email: str, address: str, user: User | None, settings: Settings
) -> list[tuple[str, Limit]]:
    """The counters a login attempt is charged to, narrowest first. The account's
    counters name the moment of its last change by an admin (`updated_at`): an unlock
    (or a new password) starts them afresh for every address at once."""
    epoch = f"{user.updated_at.timestamp():.6f}" if user is not None else "-"
    return [
        (f"login:pair:{email}:{epoch}:{address}", settings.login_limit_account_address),
        (f"login:address:{address}", settings.login_limit_address),
        (f"login:account:{email}:{epoch}", settings.login_limit_account),
    ]


async def _reserve_attempt(
    limiter: RateLimiter, limits: list[tuple[str, Limit]]
) -> list[tuple[str, Limit, int]]:
    """Counts the attempt against every limit before the password is checked, so that
    of concurrent attempts at most the limit get checked. An attempt refused by one
    limit is taken back from all (it checked nothing): guesses refused for one
    address never use up the account's own budget."""
    reserved: list[tuple[str, Limit, int]] = []
    for key, limit in limits:
        decision = await limiter.hit(key, limit)
        reserved.append((key, limit, decision.window))
        if not decision.allowed:
            await _release(limiter, reserved)
            raise _rate_limited(
                decision.retry_after,
                f"Слишком много неудачных попыток входа. Повторите через {decision.retry_after} с.",
            )
    return reserved


async def _release(limiter: RateLimiter, reserved: list[tuple[str, Limit, int]]) -> None:
    for key, limit, window in reserved:
        await limiter.release(key, limit, window)


async def login(
    email: str,
    password: str,
    *,
    address: str,
    limiter: RateLimiter,
    passwords: PasswordPool,
    settings: Settings,
) -> tuple[str, User]:
    """A new session token for valid credentials. Every failure looks the same;
    repeated failures for an account from an address, for an account, or from an
    address are refused for a while."""
    email = normalize_email(email)
    user = await User.get_or_none(email=email)
    limits = _login_limits(email, address, user, settings)
    reserved = await _reserve_attempt(limiter, limits)
    usable_hash = user.password_hash if user is not None and user.is_active else None
    try:
        valid = await passwords.verify(usable_hash, password)
    except PasswordPoolBusyError:
        await _release(limiter, reserved)
        raise _rate_limited(
            1, "Сейчас проверяется слишком много паролей. Повторите через 1 с."
        ) from None
    if not valid or user is None:
        raise ValidationFailedError.one(None, Code.INVALID_CREDENTIALS, INVALID_CREDENTIALS_MESSAGE)
    # Not a failure: the attempt is given back, and the failures from this address end.
    await _release(limiter, reserved[1:])
    pair_key, pair_limit = limits[0]
    await limiter.reset(pair_key, pair_limit)
    token = _new_secret(SESSION_PREFIX)
    moment = now()
    new_hash = await hash_password(password) if needs_rehash(user.password_hash) else None
    async with in_transaction():
        await AuthSession.create(
            user=user,
            token_hash=_digest(token),
            expires_at=moment + timedelta(seconds=settings.session_ttl_seconds),
            address=address[:64],
        )
        user.last_login_at = moment
        update = ["last_login_at"]
        if new_hash is not None:
            user.password_hash = new_hash
            update.append("password_hash")
        await user.save(update_fields=update)
    return token, user


async def unlock_user(user_id: int) -> User:
    """Ends the login lockouts of an account, for every address (see _login_limits)."""
    user = await User.get_or_none(id=user_id)
    if user is None:
        raise ValidationFailedError.one(("id",), Code.NOT_FOUND, "Такого пользователя нет.")
    user.updated_at = now()
    await user.save(update_fields=["updated_at"])
    return user


async def logout(viewer: Viewer) -> bool:
    """Revokes the session the caller used; API tokens are revoked by an admin."""
    if viewer.session_id is None:
        return False
    revoked = await AuthSession.filter(id=viewer.session_id, revoked_at__isnull=True).update(
        revoked_at=now()
    )
    return revoked > 0


# ---------------------------------------------------------------- users


async def create_user(
    *, email: str, password: str, role: Role, display_name: str | None = None
) -> User:
    check = Checker()
    clean_email = check.email(email, ("input", "email"), required=True)
    name = check.text(display_name, ("input", "displayName"), max_length=200, label="имя")
    check.errors += password_problems(password, ("input", "password"))
    if clean_email and await User.exists(email=clean_email):
        check.fail(("input", "email"), Code.CONFLICT, "Пользователь с таким e-mail уже есть.")
    check.raise_if_any()
    assert clean_email is not None
    return await User.create(
        email=clean_email,
        display_name=name or clean_email.split("@")[0],
        role=role,
        password_hash=await hash_password(password),
    )


async def update_user(
    user_id: int,
    *,
    actor_id: int | None,
    display_name: str | None = None,
    role: Role | None = None,
    is_active: bool | None = None,
    password: str | None = None,
) -> User:
    """Changes an account; deactivating it or changing its password ends its sessions.
    An admin cannot demote or deactivate themselves (someone must stay admin)."""
    user = await User.get_or_none(id=user_id)
    if user is None:
        raise ValidationFailedError.one(("id",), Code.NOT_FOUND, "Такого пользователя нет.")
    check = Checker()
    name = check.text(display_name, ("input", "displayName"), max_length=200, label="имя")
    if password is not None:
        check.errors += password_problems(password, ("input", "password"))
    if user.pk == actor_id and (is_active is False or (role is not None and role != user.role)):
        check.fail(
            ("input", "role" if role is not None else "isActive"),
            Code.FORBIDDEN,
            "Нельзя лишить прав или отключить собственную учётную запись.",
        )
    check.raise_if_any()
    changed: list[str] = []
    if name is not None:
        user.display_name = name
        changed.append("display_name")
    if role is not None:
        user.role = role
        changed.append("role")
    if is_active is not None:
        user.is_active = is_active
        changed.append("is_active")
    if password is not None:
        user.password_hash = await hash_password(password)
        changed.append("password_hash")
    async with in_transaction():
        if changed:
            await user.save(update_fields=[*changed, "updated_at"])
        if is_active is False or password is not None or role is not None:
            await AuthSession.filter(user_id=user.pk, revoked_at__isnull=True).update(
                revoked_at=now()
            )
    return user


async def ensure_first_admin(email: str | None, password: str | None) -> tuple[User, str] | None:
    """The first admin when there are no users yet: (user, the password to print once)."""
    if await User.exists():
        return None
    password = password or secrets.token_urlsafe(12)
    user = await create_user(
        email=email or "admin@example.com",
        password=password,
        role=Role.ADMIN,
        display_name="Администратор",
    )
    return user, password


# ---------------------------------------------------------------- API tokens


async def create_api_token(
    *, name: str, scopes: Iterable[TokenScope], created_by: int | None
) -> tuple[str, ApiToken]:
    """The new token's secret (shown once) and its stored record."""
    check = Checker()
    clean_name = check.text(name, ("input", "name"), required=True, max_length=120, label="name")
    scope_list = sorted({TokenScope(scope) for scope in scopes})
    if not scope_list:
        check.fail(("input", "scopes"), Code.REQUIRED, "Укажите хотя бы одну область доступа.")
    check.raise_if_any()
    secret = _new_secret(API_TOKEN_PREFIX)
    token = await ApiToken.create(
        name=clean_name,
        token_hash=_digest(secret),
        token_prefix=secret[: len(API_TOKEN_PREFIX) + 4],
        scopes=[scope.value for scope in scope_list],
        created_by_id=created_by,
    )
    return secret, token


async def revoke_api_token(token_id: int) -> ApiToken:
    token = await ApiToken.get_or_none(id=token_id, revoked_at__isnull=True)
    if token is None:
        raise ValidationFailedError.one(("id",), Code.NOT_FOUND, "Такого действующего токена нет.")
    token.revoked_at = now()
    await token.save(update_fields=["revoked_at"])
    return token
