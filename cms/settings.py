"""Every knob of the CMS, read from CMS_* environment variables.

`load_settings()` reads the environment once; the result is immutable. The
server, the CLI and the tests each call it (tests with their own mapping), and
pass the object down explicitly.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import string
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEVELOPMENT = "development"
PRODUCTION = "production"

# CMS_INTROSPECTION: "auto" allows introspection in development and to every
# authenticated caller (staff and API tokens), refuses it to anonymous callers in
# production; "on" and "off" decide for everyone.
INTROSPECTION_AUTO = "auto"
INTROSPECTION_CHOICES = (INTROSPECTION_AUTO, "on", "off")


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class SettingsError(ValueError):
    """A CMS_* variable holds a value the CMS cannot use."""


@dataclass(frozen=True, slots=True)
class Limit:
    """A rate limit: `count` events per `seconds`."""

    count: int
    seconds: int

    @classmethod
    def parse(cls, spec: str) -> Limit:
        """'5/60' -> five per sixty seconds."""
        count, _, seconds = spec.partition("/")
        limit = cls(int(count), int(seconds))
        if limit.count < 1 or limit.seconds < 1:
            raise ValueError(f"a limit needs a positive count and window: {spec!r}")
        return limit


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, not {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {value}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not 0 < value <= 3600:
        raise SettingsError(f"{name} must be more than 0 and at most 3600 seconds, not {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}")


def _limit(env: Mapping[str, str], name: str, default: Limit) -> Limit:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return Limit.parse(raw)
    except ValueError:
        raise SettingsError(
            f"{name} must look like COUNT/SECONDS (e.g. 5/60), not {raw!r}"
        ) from None


def _networks(
    env: Mapping[str, str], name: str, default: tuple[Network, ...]
) -> tuple[Network, ...]:
    raw = env.get(name, "")
    try:
        return tuple(
            ipaddress.ip_network(part.strip(), strict=False)
            for part in raw.split(",")
            if part.strip()
        )
    except ValueError:
        raise SettingsError(
            f"{name} must be a comma-separated list of IPs or CIDRs: {raw!r}"
        ) from None


def _choice(env: Mapping[str, str], name: str, default: str, *, choices: tuple[str, ...]) -> str:
    value = (env.get(name) or default).strip().lower()
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _number_pattern(env: Mapping[str, str], name: str, default: str) -> str:
    """A str.format pattern with {year} and {seq} (format specs allowed, e.g.
    {seq:05d}); the sequence restarts every year, so both must be in it."""
    pattern = env.get(name) or default
    try:
        names = {part[1] for part in string.Formatter().parse(pattern) if part[1] is not None}
        sample = pattern.format(year=2026, seq=1)
    except (ValueError, KeyError, IndexError):
        raise SettingsError(f"{name} is not a valid pattern: {pattern!r}") from None
    if names != {"year", "seq"}:
        raise SettingsError(f"{name} must use {{year}} and {{seq}} and nothing else: {pattern!r}")
    if len(sample) > 40:
        raise SettingsError(f"{name} gives numbers too long: {sample!r}")
    return pattern


def _timezone(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name) or default
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"{name} must be a time zone such as Asia/Vladivostok") from None
    return value


SMTP_SCHEMES = ("smtp", "smtp+starttls", "smtps")


def _smtp_url(env: Mapping[str, str], name: str, default: None) -> str | None:
    """smtp://[user:password@]host[:port]; smtp+starttls:// and smtps:// encrypt."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise SettingsError(f"{name} has a bad port") from None
    if parts.scheme not in SMTP_SCHEMES or not parts.hostname:
        # The value may hold a password: it is not repeated in the message.
        raise SettingsError(f"{name} must look like smtp://user:password@host:port")
    return raw


def _addresses(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    addresses = tuple(part.strip() for part in env.get(name, "").split(",") if part.strip())
    for address in addresses:
        if "@" not in address:
            raise SettingsError(f"{name} must be a comma-separated list of e-mails: {address!r}")
    return addresses


def _origins(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """Browser origins exactly as browsers send them: scheme://host[:port], no path."""
    origins = tuple(
        part.strip().rstrip("/") for part in env.get(name, "").split(",") if part.strip()
    )
    for origin in origins:
        parts = urlsplit(origin)
        if origin != "*" and (
            parts.scheme not in ("http", "https") or not parts.hostname or parts.path
        ):
            raise SettingsError(
                f"{name} must be comma-separated origins like https://invest.example, "
                f"not {origin!r}"
            )
    return origins


_HOST = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\]")


def _hosts(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """Host names, comma-separated and lower-cased; unset gives `default`."""
    hosts = tuple(part.strip().lower() for part in env.get(name, "").split(",") if part.strip())
    for host in hosts:
        if not _HOST.fullmatch(host):
            raise SettingsError(
                f"{name} must be comma-separated host names like "
                f"cdn.invest.example (no scheme, port or path), not {host!r}"
            )
    return hosts or default


def _widths(env: Mapping[str, str], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    raw = env.get(name, "").replace(",", " ").split()
    if not raw:
        return default
    try:
        widths = tuple(sorted({int(part) for part in raw}))
    except ValueError:
        raise SettingsError(f"{name} must be widths in pixels (e.g. 320 640): {raw!r}") from None
    if widths[0] < 16 or widths[-1] > 8192:
        raise SettingsError(f"{name} must lie between 16 and 8192 pixels: {raw!r}")
    return widths


def _ratios(
    env: Mapping[str, str], name: str, default: tuple[tuple[int, int], ...]
) -> tuple[tuple[int, int], ...]:
    raw = env.get(name, "").replace(",", " ").split()
    if not raw:
        return default
    ratios: list[tuple[int, int]] = []
    for part in raw:
        width, _, height = part.partition(":")
        try:
            ratio = (int(width), int(height))
        except ValueError:
            raise SettingsError(f"{name} must be ratios like '16:9 4:3 1:1': {raw!r}") from None
        if not (1 <= ratio[0] <= 100 and 1 <= ratio[1] <= 100):
            raise SettingsError(f"{name} must be ratios of numbers from 1 to 100: {raw!r}")
        ratios.append(ratio)
    return tuple(dict.fromkeys(ratios))


Reader = Callable[..., Any]


def _text(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    """The variable as it is; unset or empty gives the default."""
    return env.get(name) or default


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    return (env.get(name) or default).rstrip("/")


def _upper(env: Mapping[str, str], name: str, default: str) -> str:
    return (env.get(name) or default).upper()


def _path(env: Mapping[str, str], name: str, default: Path) -> Path:
    return Path(env.get(name) or default).resolve()


def _template(env: Mapping[str, str], name: str, default: str) -> str:
    template = env.get(name) or default
    if "{slug}" not in template:
        raise SettingsError(f"A URL template must contain {{slug}}: {template!r}")
    return template


MEDIA_STORAGES = ("local", "s3")
_S3_PREFIX = re.compile(r"[a-z0-9][a-z0-9_.-]*(/[a-z0-9][a-z0-9_.-]*)*")


def _s3_text(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    """An S3 name or address: spaces and the slashes around it do not count."""
    return (env.get(name) or "").strip().strip("/") or default


def _check_s3(values: dict[str, Any]) -> None:
    """CMS_S3_* that cannot work; with s3, the endpoint, bucket and keys are required
    (the secret is never repeated in a message)."""
    prefix = values["s3_prefix"]
    if prefix and not _S3_PREFIX.fullmatch(prefix):
        raise SettingsError(
            f"CMS_S3_PREFIX must be lower-case folder names like cms/media, not {prefix!r}"
        )
    endpoint = values["s3_endpoint"]
    if endpoint is not None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SettingsError(
                f"CMS_S3_ENDPOINT must look like https://storage.example, not {endpoint!r}"
            )
    if values["media_storage"] == "s3":
        required = {
            "CMS_S3_ENDPOINT": values["s3_endpoint"],
            "CMS_S3_BUCKET": values["s3_bucket"],
            "CMS_S3_ACCESS_KEY": values["s3_access_key"],
            "CMS_S3_SECRET_KEY": values["s3_secret_key"],
        }
        missing = [name for name, value in required.items() if value is None]
        if missing:
            raise SettingsError(f"CMS_MEDIA_STORAGE=s3 needs {', '.join(missing)}")


def variable(name: str, read: Reader | None = None, **options: Any) -> dict[str, Any]:
    """A field's metadata: read from the variable `name` by
    `read(environ, name, default, **options)` (plain text by default). `shown` is how
    the README states a default that is computed when the variable is unset."""
    shown = options.pop("shown", None)
    return {"env": name, "read": read or _text, "options": options, "shown": shown}


@dataclass(frozen=True, slots=True)
class UrlTemplates:
    """Front-end URLs of content; `{site}` is CMS_SITE_URL, `{slug}` the item's slug."""

    news: str = field(default="{site}/news/{slug}", metadata=variable("CMS_URL_NEWS", _template))
    agreement: str = field(
        default="{site}/agreements/{slug}", metadata=variable("CMS_URL_AGREEMENT", _template)
    )
    action_plan: str = field(
        default="{site}/action-plans/{slug}", metadata=variable("CMS_URL_ACTION_PLAN", _template)
    )
    enterprise: str = field(
        default="{site}/enterprises/{slug}", metadata=variable("CMS_URL_ENTERPRISE", _template)
    )


# Widths in pixels a rendition is rounded up to (CMS_RENDITION_WIDTHS).
DEFAULT_RENDITION_WIDTHS: tuple[int, ...] = (160, 320, 480, 640, 960, 1280, 1920)
# Width:height shapes a rendition may be cropped or fitted to (CMS_RENDITION_RATIOS).
DEFAULT_RENDITION_RATIOS: tuple[tuple[int, int], ...] = (
    (1, 1),
    (5, 4),
    (4, 3),
    (3, 2),
    (16, 9),
    (2, 1),
    (21, 9),
    (4, 5),
    (3, 4),
    (2, 3),
    (9, 16),
)


@dataclass(frozen=True, slots=True)
class Settings:
    # Each field states its variable, its default and how it is read, once; the
    # README's table is checked against them (tests/cms/test_settings.py).
    env: str = field(
        default=DEVELOPMENT,
        metadata=variable("CMS_ENV", _choice, choices=(DEVELOPMENT, PRODUCTION)),
    )
    # Unset: a SQLite file cms.db in the working directory (load_settings).
    database_url: str = field(default="", metadata=variable("CMS_DATABASE_URL"))
    host: str = field(default="127.0.0.1", metadata=variable("CMS_HOST"))
    port: int = field(default=8000, metadata=variable("CMS_PORT", _int, minimum=1))
    workers: int = field(default=1, metadata=variable("CMS_WORKERS", _int, minimum=1))
    redis_url: str | None = field(default=None, metadata=variable("CMS_REDIS_URL"))
    # Prefix of the response cache's Redis keys: deployments sharing one Redis differ.
    redis_prefix: str = field(default="cms", metadata=variable("CMS_REDIS_PREFIX"))
    # The Redis connection pool of a process: its size, how long a call waits for a
    # free connection, and the socket timeouts. A call that fails on any of them falls
    # back (cms/services/redis_guard.py) instead of failing the request.
    redis_max_connections: int = field(
        default=50, metadata=variable("CMS_REDIS_MAX_CONNECTIONS", _int, minimum=1)
    )
    redis_pool_timeout: float = field(
        default=1.0, metadata=variable("CMS_REDIS_POOL_TIMEOUT", _seconds)
    )
    redis_socket_timeout: float = field(
        default=1.0, metadata=variable("CMS_REDIS_SOCKET_TIMEOUT", _seconds)
    )
    redis_connect_timeout: float = field(
        default=1.0, metadata=variable("CMS_REDIS_CONNECT_TIMEOUT", _seconds)
    )
    media_root: Path = field(default=Path("uploads"), metadata=variable("CMS_MEDIA_ROOT", _path))
    # Unset: required in production, generated and kept in .secret_key in development.
    secret_key: str = field(default="", metadata=variable("CMS_SECRET_KEY"))
    site_url: str = field(default="http://localhost:3000", metadata=variable("CMS_SITE_URL", _url))
    # Where media and rendition URLs point. Unset: where the server listens
    # (load_settings); this default matches the default host and port.
    public_url: str = field(
        default="http://127.0.0.1:8000",
        metadata=variable("CMS_PUBLIC_URL", _url, shown="http://CMS_HOST:CMS_PORT"),
    )
    # Hosts whose images a rich-text body may show (CMS_RICHTEXT_IMAGE_HOSTS; unset: the
    # site's); the CMS's own media host (CMS_PUBLIC_URL) is always one of them
    # (load_settings). Images from anywhere else (tracking pixels) are dropped when a
    # body is saved. This default matches the defaults of both URLs.
    richtext_image_hosts: tuple[str, ...] = field(
        default=("127.0.0.1", "localhost"),
        metadata=variable("CMS_RICHTEXT_IMAGE_HOSTS", _hosts, shown="CMS_SITE_URL"),
    )
    # Unset: ensure-admin creates admin@example.com with a password it prints once.
    admin_email: str | None = field(
        default=None, metadata=variable("CMS_ADMIN_EMAIL", shown="admin@example.com")
    )
    admin_password: str | None = field(
        default=None,
        metadata=variable("CMS_ADMIN_PASSWORD", shown="a generated password printed once"),
    )
    url_templates: UrlTemplates = field(default_factory=UrlTemplates)
    page_size_default: int = field(
        default=20, metadata=variable("CMS_PAGE_SIZE_DEFAULT", _int, minimum=1)
    )
    page_size_max: int = field(default=100, metadata=variable("CMS_PAGE_SIZE_MAX", _int, minimum=1))
    # An IDE for the public is no production default: there, on only where asked for
    # (load_settings).
    graphiql: bool = field(default=True, metadata=variable("CMS_GRAPHIQL", _bool))
    access_log: bool = field(default=True, metadata=variable("CMS_ACCESS_LOG", _bool))
    log_level: str = field(default="INFO", metadata=variable("CMS_LOG_LEVEL", _upper))
    # Operations (web/metrics.py, web/logs.py, web/lifecycle.py): Prometheus /metrics
    # (off by default; a bearer token when set), "text" or "json" log lines, and how
    # long a stopping server lets requests in flight finish.
    metrics: bool = field(default=False, metadata=variable("CMS_METRICS", _bool))
    metrics_token: str | None = field(default=None, metadata=variable("CMS_METRICS_TOKEN"))
    log_format: str = field(
        default="text", metadata=variable("CMS_LOG_FORMAT", _choice, choices=("text", "json"))
    )
    shutdown_timeout: int = field(
        default=30, metadata=variable("CMS_SHUTDOWN_TIMEOUT", _int, minimum=1)
    )
    max_body_size: int = field(
        default=1_048_576, metadata=variable("CMS_MAX_BODY_SIZE", _int, minimum=1024)
    )
    session_ttl_seconds: int = field(
        default=12 * 3600, metadata=variable("CMS_SESSION_TTL", _int, minimum=60)
    )
    trusted_proxies: tuple[Network, ...] = field(
        default=(), metadata=variable("CMS_TRUSTED_PROXIES", _networks)
    )
    # Failed logins: per (account, address) first, so that guessing from one address
    # locks only that address out; per account across addresses, slower (a spread-out
    # attack still meets a limit; an admin unlocks); per address, any account.
    login_limit_account_address: Limit = field(
        default=Limit(5, 900), metadata=variable("CMS_LOGIN_LIMIT_ACCOUNT_ADDRESS", _limit)
    )
    login_limit_account: Limit = field(
        default=Limit(50, 3600), metadata=variable("CMS_LOGIN_LIMIT_ACCOUNT", _limit)
    )
    login_limit_address: Limit = field(
        default=Limit(30, 900), metadata=variable("CMS_LOGIN_LIMIT_ADDRESS", _limit)
    )
    # Argon2 runs in this many threads, off the event loop; at most password_queue
    # checks wait for one, further logins are refused at once (RATE_LIMITED, retry in 1 s).
    password_threads: int = field(
        default=2, metadata=variable("CMS_PASSWORD_THREADS", _int, minimum=1)
    )
    password_queue: int = field(
        default=64, metadata=variable("CMS_PASSWORD_QUEUE", _int, minimum=0)
    )
    rate_limit_anonymous: Limit = field(
        default=Limit(600, 60), metadata=variable("CMS_RATE_LIMIT_ANONYMOUS", _limit)
    )
    rate_limit_token: Limit = field(
        default=Limit(6000, 60), metadata=variable("CMS_RATE_LIMIT_TOKEN", _limit)
    )
    trash_retention_days: int = field(
        default=30, metadata=variable("CMS_TRASH_RETENTION_DAYS", _int, minimum=0)
    )
    feedback_limit_address: Limit = field(
        default=Limit(10, 3600), metadata=variable("CMS_FEEDBACK_LIMIT_ADDRESS", _limit)
    )
    feedback_limit_contact: Limit = field(
        default=Limit(5, 3600), metadata=variable("CMS_FEEDBACK_LIMIT_CONTACT", _limit)
    )
    feedback_dedupe_seconds: int = field(
        default=600, metadata=variable("CMS_FEEDBACK_DEDUPE_SECONDS", _int, minimum=0)
    )
    feedback_retention_days: int = field(
        default=1825, metadata=variable("CMS_FEEDBACK_RETENTION_DAYS", _int, minimum=1)
    )
    feedback_retention_mode: str = field(
        default="anonymize",
        metadata=variable("CMS_FEEDBACK_RETENTION_MODE", _choice, choices=("anonymize", "delete")),
    )
    smtp_url: str | None = field(default=None, metadata=variable("CMS_SMTP_URL", _smtp_url))
    feedback_notify_to: tuple[str, ...] = field(
        default=(), metadata=variable("CMS_FEEDBACK_NOTIFY_TO", _addresses)
    )
    feedback_notify_from: str = field(
        default="cms@localhost", metadata=variable("CMS_FEEDBACK_NOTIFY_FROM")
    )
    # Unset: CMS_PUBLIC_URL + /graphql (load_settings); this default matches its default.
    feedback_queue_url: str = field(
        default="http://127.0.0.1:8000/graphql",
        metadata=variable("CMS_FEEDBACK_QUEUE_URL", shown="unset"),
    )
    # Background work (e-mails, webhooks) runs in every server process; off where
    # `python -m cms worker` does it instead.
    background_in_server: bool = field(
        default=True, metadata=variable("CMS_BACKGROUND_IN_SERVER", _bool)
    )
    # Webhooks (cms/services/webhooks/): deliveries to private, loopback and
    # link-local addresses only when allowed (development, tests); the time-out of
    # one request; retries doubling from the first delay up to the longest, with
    # jitter, until the last attempt (the defaults span about a day); an endpoint is
    # disabled after this many failed attempts in a row; a rotated secret keeps
    # signing for the grace period; the log is kept this many days.
    webhook_allow_private: bool = field(
        default=False, metadata=variable("CMS_WEBHOOK_ALLOW_PRIVATE", _bool)
    )
    webhook_timeout: float = field(
        default=10.0, metadata=variable("CMS_WEBHOOK_TIMEOUT_SECONDS", _seconds)
    )
    webhook_retry_first: float = field(
        default=30.0, metadata=variable("CMS_WEBHOOK_RETRY_FIRST_SECONDS", _seconds)
    )
    webhook_retry_max: float = field(
        default=3600.0, metadata=variable("CMS_WEBHOOK_RETRY_MAX_SECONDS", _seconds)
    )
    webhook_max_attempts: int = field(
        default=30, metadata=variable("CMS_WEBHOOK_MAX_ATTEMPTS", _int, minimum=1)
    )
    webhook_disable_after: int = field(
        default=50, metadata=variable("CMS_WEBHOOK_DISABLE_AFTER", _int, minimum=1)
    )
    webhook_secret_grace_hours: int = field(
        default=24, metadata=variable("CMS_WEBHOOK_SECRET_GRACE_HOURS", _int, minimum=0)
    )
    webhook_log_retention_days: int = field(
        default=30, metadata=variable("CMS_WEBHOOK_LOG_RETENTION_DAYS", _int, minimum=1)
    )
    # How often a process looks for work committed by others (its own is seen at once).
    webhook_poll_seconds: float = field(
        default=2.0, metadata=variable("CMS_WEBHOOK_POLL_SECONDS", _seconds)
    )
    webhook_concurrency: int = field(
        default=10, metadata=variable("CMS_WEBHOOK_CONCURRENCY", _int, minimum=1)
    )
    # Appeals (59-FZ): registration on receipt ("auto") or by staff ("manual"), the
    # number's pattern, the office's time zone and calendar ("ru": the Russian
    # production calendar, or "weekends" only), the deadlines in days.
    appeal_registration: str = field(
        default="auto",
        metadata=variable("CMS_APPEAL_REGISTRATION", _choice, choices=("auto", "manual")),
    )
    appeal_number_pattern: str = field(
        default="ОГ-{year}-{seq:05d}",
        metadata=variable("CMS_APPEAL_NUMBER_PATTERN", _number_pattern),
    )
    appeal_timezone: str = field(
        default="Asia/Vladivostok", metadata=variable("CMS_APPEAL_TIMEZONE", _timezone)
    )
    appeal_calendar: str = field(
        default="ru",
        metadata=variable("CMS_APPEAL_CALENDAR", _choice, choices=("ru", "weekends")),
    )
    appeal_registration_days: int = field(
        default=3, metadata=variable("CMS_APPEAL_REGISTRATION_DAYS", _int, minimum=1)
    )
    appeal_answer_days: int = field(
        default=30, metadata=variable("CMS_APPEAL_ANSWER_DAYS", _int, minimum=1)
    )
    appeal_max_extension_days: int = field(
        default=30, metadata=variable("CMS_APPEAL_MAX_EXTENSION_DAYS", _int, minimum=1)
    )
    appeal_status_limit: Limit = field(
        default=Limit(20, 3600), metadata=variable("CMS_APPEAL_STATUS_LIMIT", _limit)
    )
    # Media: the largest upload, the largest image (pixels, against decompression
    # bombs), the allowed rendition widths and aspect ratios, parallel renderings.
    media_max_bytes: int = field(
        default=20 * 1024 * 1024, metadata=variable("CMS_MEDIA_MAX_BYTES", _int, minimum=1024)
    )
    media_max_pixels: int = field(
        default=60_000_000, metadata=variable("CMS_MEDIA_MAX_PIXELS", _int, minimum=10_000)
    )
    rendition_widths: tuple[int, ...] = field(
        default=DEFAULT_RENDITION_WIDTHS, metadata=variable("CMS_RENDITION_WIDTHS", _widths)
    )
    rendition_ratios: tuple[tuple[int, int], ...] = field(
        default=DEFAULT_RENDITION_RATIOS, metadata=variable("CMS_RENDITION_RATIOS", _ratios)
    )
    rendition_concurrency: int = field(
        default=2, metadata=variable("CMS_RENDITION_CONCURRENCY", _int, minimum=1)
    )
    # Where media bytes live: "local" (CMS_MEDIA_ROOT) or "s3", an S3-compatible
    # bucket (CMS_S3_*); with s3 the media root still holds uploads being received.
    # Parts of s3_part_size bytes stream larger files up (multipart upload); with
    # s3_presign, GET /media/... redirects to a URL signed for s3_presign_seconds.
    media_storage: str = field(
        default="local", metadata=variable("CMS_MEDIA_STORAGE", _choice, choices=MEDIA_STORAGES)
    )
    s3_endpoint: str | None = field(
        default=None, metadata=variable("CMS_S3_ENDPOINT", _s3_text, shown="required with s3")
    )
    s3_bucket: str | None = field(
        default=None, metadata=variable("CMS_S3_BUCKET", _s3_text, shown="required with s3")
    )
    s3_region: str = field(default="us-east-1", metadata=variable("CMS_S3_REGION", _s3_text))
    s3_access_key: str | None = field(
        default=None, metadata=variable("CMS_S3_ACCESS_KEY", shown="required with s3")
    )
    s3_secret_key: str | None = field(
        default=None, repr=False, metadata=variable("CMS_S3_SECRET_KEY", shown="required with s3")
    )
    s3_prefix: str = field(default="", metadata=variable("CMS_S3_PREFIX", _s3_text))
    # S3 refuses parts under 5 MiB (except the last one).
    s3_part_size: int = field(
        default=8 * 1024 * 1024,
        metadata=variable("CMS_S3_PART_SIZE", _int, minimum=5 * 1024 * 1024),
    )
    s3_presign: bool = field(default=False, metadata=variable("CMS_S3_PRESIGN", _bool))
    s3_presign_seconds: int = field(
        default=900, metadata=variable("CMS_S3_PRESIGN_SECONDS", _int, minimum=10)
    )
    # Operation limits, checked before execution (graphql_schema/limits.py). The
    # defaults leave every GraphiQL example, bench query and realistic page (the
    # dearest, the deep agreement query, costs about 3,000) at a third of each limit
    # or less (tests/api/test_cost.py). Plain lists count at cost_list_size in the
    # cost; connections at their first/last or the page cap; weights in limits.py.
    max_query_bytes: int = field(
        default=262_144, metadata=variable("CMS_MAX_QUERY_BYTES", _int, minimum=1024)
    )
    max_tokens: int = field(default=5_000, metadata=variable("CMS_MAX_TOKENS", _int, minimum=100))
    max_depth: int = field(default=15, metadata=variable("CMS_MAX_DEPTH", _int, minimum=2))
    max_aliases: int = field(default=50, metadata=variable("CMS_MAX_ALIASES", _int, minimum=0))
    max_directives: int = field(
        default=50, metadata=variable("CMS_MAX_DIRECTIVES", _int, minimum=0)
    )
    max_fragments: int = field(default=100, metadata=variable("CMS_MAX_FRAGMENTS", _int, minimum=0))
    max_cost: int = field(default=10_000, metadata=variable("CMS_MAX_COST", _int, minimum=1))
    cost_list_size: int = field(
        default=10, metadata=variable("CMS_COST_LIST_SIZE", _int, minimum=1)
    )
    # The largest answer in bytes: a larger one is replaced by a LIMIT_EXCEEDED error.
    max_response_bytes: int = field(
        default=5 * 1024 * 1024,
        metadata=variable("CMS_MAX_RESPONSE_BYTES", _int, minimum=1024),
    )
    # Operations costing more than expensive_cost run at most expensive_concurrency at
    # once per process; others wait up to expensive_wait_ms, then get a 503.
    expensive_cost: int = field(
        default=5_000, metadata=variable("CMS_EXPENSIVE_COST", _int, minimum=1)
    )
    expensive_concurrency: int = field(
        default=2, metadata=variable("CMS_EXPENSIVE_CONCURRENCY", _int, minimum=1)
    )
    expensive_wait_ms: int = field(
        default=2_000, metadata=variable("CMS_EXPENSIVE_WAIT_MS", _int, minimum=0)
    )
    introspection: str = field(
        default=INTROSPECTION_AUTO,
        metadata=variable("CMS_INTROSPECTION", _choice, choices=INTROSPECTION_CHOICES),
    )
    # Browser origins allowed to call the API (CORS), as configured; none by default.
    # `cors_allowed_origins` adds the front-end's own origin in development.
    cors_origins: tuple[str, ...] = field(
        default=(), metadata=variable("CMS_CORS_ORIGINS", _origins)
    )
    # The response cache of public reads (in process, or in Redis with CMS_REDIS_URL):
    # on/off, how many entries and bytes one process keeps, and how long an entry lives
    # at most (content changes invalidate entries at once; this only bounds memory).
    response_cache: bool = field(default=True, metadata=variable("CMS_RESPONSE_CACHE", _bool))
    # Reads compiled to one SQL statement each (graphql_schema/compiler); on since the
    # differential test (tests/api/test_compiler.py) is green on SQLite and PostgreSQL.
    query_compiler: bool = field(default=True, metadata=variable("CMS_QUERY_COMPILER", _bool))
    response_cache_max_entries: int = field(
        default=10_000, metadata=variable("CMS_RESPONSE_CACHE_MAX_ENTRIES", _int, minimum=1)
    )
    response_cache_max_bytes: int = field(
        default=64 * 1024 * 1024,
        metadata=variable("CMS_RESPONSE_CACHE_MAX_BYTES", _int, minimum=1024),
    )
    response_cache_ttl: int = field(
        default=3600, metadata=variable("CMS_RESPONSE_CACHE_TTL", _int, minimum=1)
    )
    # Where content changes are announced to a CDN as the surrogate keys to purge
    # (POST {"keys": [...]}, with the token as a Bearer credential when set); unset:
    # no purging (web/cdn_purge.py).
    cdn_purge_url: str | None = field(default=None, metadata=variable("CMS_CDN_PURGE_URL"))
    cdn_purge_token: str | None = field(
        default=None, repr=False, metadata=variable("CMS_CDN_PURGE_TOKEN")
    )
    # Surrogate-Key and Cache-Tag on public answers: for a CDN to tag what it keeps,
    # so by default only where one is purged (CMS_CDN_PURGE_URL). Without one they
    # only lengthen every answer (up to a few KB for a long list), and the server
    # checks every byte of every header it sends (about 7 µs a kilobyte).
    surrogate_key_headers: bool = field(
        default=False,
        metadata=variable("CMS_SURROGATE_KEY_HEADERS", _bool),
    )
    # HTTP caching of anonymous GET queries: Cache-Control max-age and
    # stale-while-revalidate, both cut short by the next scheduled publication.
    http_cache_max_age: int = field(
        default=60, metadata=variable("CMS_HTTP_CACHE_MAX_AGE", _int, minimum=0)
    )
    http_cache_swr: int = field(
        default=300, metadata=variable("CMS_HTTP_CACHE_SWR", _int, minimum=0)
    )
    # Trusted documents: the public endpoint runs only registered operations.
    trusted_documents: bool = field(
        default=False, metadata=variable("CMS_TRUSTED_DOCUMENTS", _bool)
    )
    # GraphQL subscriptions over WebSocket (web/subscriptions.py): operations at once
    # per connection, connections at once per client address (per process), the
    # seconds a connection may take to send connection_init, the seconds between the
    # server's pings, and the events one subscription may have waiting (a reader that
    # falls further behind is ended with an error rather than silently miss changes).
    subscription_max_per_connection: int = field(
        default=20, metadata=variable("CMS_SUBSCRIPTION_MAX_PER_CONNECTION", _int, minimum=1)
    )
    subscription_max_connections_per_address: int = field(
        default=20,
        metadata=variable("CMS_SUBSCRIPTION_MAX_CONNECTIONS_PER_ADDRESS", _int, minimum=1),
    )
    subscription_init_timeout: float = field(
        default=10.0, metadata=variable("CMS_SUBSCRIPTION_INIT_TIMEOUT", _seconds)
    )
    subscription_keepalive: float = field(
        default=15.0, metadata=variable("CMS_SUBSCRIPTION_KEEPALIVE", _seconds)
    )
    subscription_queue: int = field(
        default=100, metadata=variable("CMS_SUBSCRIPTION_QUEUE", _int, minimum=1)
    )
    # Items in each RSS, Atom and JSON feed.
    feed_length: int = field(default=50, metadata=variable("CMS_FEED_LENGTH", _int, minimum=1))

    @property
    def is_production(self) -> bool:
        return self.env == PRODUCTION

    @property
    def cors_allowed_origins(self) -> tuple[str, ...]:
        """CMS_CORS_ORIGINS, and in development also the origin of CMS_SITE_URL, so that
        the front-end at its default address (localhost:3000) can call the API."""
        if self.is_production:
            return self.cors_origins
        site = _origin(self.site_url)
        if site is None or site in self.cors_origins:
            return self.cors_origins
        return (*self.cors_origins, site)

    def with_changes(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def _read(cls: type[Any], env: Mapping[str, str]) -> dict[str, Any]:
    """The values of a settings dataclass's fields that are read from variables."""
    values: dict[str, Any] = {}
    for item in fields(cls):
        if "env" in item.metadata:
            meta = item.metadata
            values[item.name] = meta["read"](env, meta["env"], item.default, **meta["options"])
    return values


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    values = _read(Settings, env)
    if not values["secret_key"]:
        if values["env"] == PRODUCTION:
            raise SettingsError("CMS_SECRET_KEY is required when CMS_ENV=production")
        values["secret_key"] = _development_secret_key()
    values["database_url"] = values["database_url"] or _default_database_url()
    if not env.get("CMS_PUBLIC_URL"):
        values["public_url"] = _listen_url(values["host"], values["port"])
    if not env.get("CMS_GRAPHIQL", "").strip():
        values["graphiql"] = values["env"] != PRODUCTION
    # The CMS's own media host, then the configured hosts (unset: the site's).
    configured = _hosts(env, "CMS_RICHTEXT_IMAGE_HOSTS", ())
    if not configured:
        configured = (urlsplit(values["site_url"]).hostname or "",)
    own = urlsplit(values["public_url"]).hostname or ""
    values["richtext_image_hosts"] = tuple(
        dict.fromkeys(host for host in (own, *configured) if host)
    )
    _check_s3(values)
    if not (env.get("CMS_SURROGATE_KEY_HEADERS") or "").strip():
        values["surrogate_key_headers"] = values["cdn_purge_url"] is not None
    if not (env.get("CMS_FEEDBACK_QUEUE_URL") or "").strip():
        values["feedback_queue_url"] = values["public_url"] + "/graphql"
    return Settings(**values, url_templates=UrlTemplates(**_read(UrlTemplates, env)))


def documented_defaults() -> dict[str, str]:
    """Each variable with its default as the README's configuration table states it."""
    result: dict[str, str] = {}
    for cls in (Settings, UrlTemplates):
        for item in fields(cls):
            if "env" in item.metadata:
                shown = item.metadata["shown"]
                result[item.metadata["env"]] = shown or _shown(item.default)
    return result


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if value is None or value == "":
        return "unset"
    if value == ():
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, Limit):
        return f"{value.count}/{value.seconds}"
    if isinstance(value, Path):
        return f"{value}/"
    if isinstance(value, tuple):
        return " ".join(
            ":".join(map(str, part)) if isinstance(part, tuple) else str(part) for part in value
        )
    return str(value)


def _listen_url(host: str, port: int) -> str:
    """http://host:port of `python server.py`; a wildcard address (listen everywhere)
    is reached on this machine through the loopback address of its family."""
    host = host.strip() or "127.0.0.1"
    if host == "0.0.0.0":
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:  # an IPv6 address is written in brackets in a URL
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _origin(url: str) -> str | None:
    """scheme://host[:port] of a URL, as a browser sends it in Origin; None if it has none."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}".lower()


def _default_database_url() -> str:
    return f"sqlite://{Path('cms.db').resolve()}"


def _development_secret_key() -> str:
    """A key kept in `.secret_key` so tokens survive restarts of a development server."""
    path = Path(".secret_key")
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        key = ""
    if not key:
        key = secrets.token_urlsafe(48)
        try:
            path.write_text(key)
            path.chmod(0o600)
        except OSError:
            pass  # a read-only working directory: the key lives as long as the process
    return key
