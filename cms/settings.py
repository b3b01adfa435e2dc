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
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypedDict
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


@dataclass(frozen=True, slots=True)
class UrlTemplates:
    """Front-end URLs of content; `{site}` is CMS_SITE_URL, `{slug}` the item's slug."""

    news: str = "{site}/news/{slug}"
    agreement: str = "{site}/agreements/{slug}"
    action_plan: str = "{site}/action-plans/{slug}"
    enterprise: str = "{site}/enterprises/{slug}"


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
    env: str = DEVELOPMENT
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    redis_url: str | None = None
    # Prefix of the response cache's Redis keys: deployments sharing one Redis differ.
    redis_prefix: str = "cms"
    # The Redis connection pool of a process: its size, how long a call waits for a
    # free connection, and the socket timeouts. A call that fails on any of them falls
    # back (cms/services/redis_guard.py) instead of failing the request.
    redis_max_connections: int = 50
    redis_pool_timeout: float = 1.0
    redis_socket_timeout: float = 1.0
    redis_connect_timeout: float = 1.0
    media_root: Path = Path("uploads")
    secret_key: str = ""
    site_url: str = "http://localhost:3000"
    # Where media and rendition URLs point; by default where the server listens.
    public_url: str = "http://127.0.0.1:8000"
    # Hosts whose images a rich-text body may show (CMS_RICHTEXT_IMAGE_HOSTS, by default
    # the site's); the CMS's own media host (CMS_PUBLIC_URL) is always one of them.
    # Images from anywhere else (tracking pixels) are dropped when a body is saved.
    richtext_image_hosts: tuple[str, ...] = ("127.0.0.1", "localhost")
    admin_email: str | None = None
    admin_password: str | None = None
    url_templates: UrlTemplates = field(default_factory=UrlTemplates)
    page_size_default: int = 20
    page_size_max: int = 100
    graphiql: bool = True
    access_log: bool = True
    log_level: str = "INFO"
    max_body_size: int = 1_048_576
    session_ttl_seconds: int = 12 * 3600
    trusted_proxies: tuple[Network, ...] = ()
    # Failed logins: per (account, address) first, so that guessing from one address
    # locks only that address out; per account across addresses, slower (a spread-out
    # attack still meets a limit; an admin unlocks); per address, any account.
    login_limit_account_address: Limit = field(default_factory=lambda: Limit(5, 900))
    login_limit_account: Limit = field(default_factory=lambda: Limit(50, 3600))
    login_limit_address: Limit = field(default_factory=lambda: Limit(30, 900))
    # Argon2 runs in this many threads, off the event loop; at most password_queue
    # checks wait for one, further logins are refused at once (RATE_LIMITED, retry in 1 s).
    password_threads: int = 2
    password_queue: int = 64
    rate_limit_anonymous: Limit = field(default_factory=lambda: Limit(600, 60))
    rate_limit_token: Limit = field(default_factory=lambda: Limit(6000, 60))
    trash_retention_days: int = 30
    feedback_limit_address: Limit = field(default_factory=lambda: Limit(10, 3600))
    feedback_limit_contact: Limit = field(default_factory=lambda: Limit(5, 3600))
    feedback_dedupe_seconds: int = 600
    feedback_retention_days: int = 1825
    feedback_retention_mode: str = "anonymize"  # or "delete"
    smtp_url: str | None = None
    feedback_notify_to: tuple[str, ...] = ()
    feedback_notify_from: str = "cms@localhost"
    feedback_queue_url: str = "http://127.0.0.1:8000/graphql"
    # Appeals (59-FZ): registration on receipt ("auto") or by staff ("manual"), the
    # number's pattern, the office's time zone and calendar, the deadlines in days.
    appeal_registration: str = "auto"
    appeal_number_pattern: str = "ОГ-{year}-{seq:05d}"
    appeal_timezone: str = "Asia/Vladivostok"
    appeal_calendar: str = "ru"  # Russian production calendar, or "weekends" only
    appeal_registration_days: int = 3
    appeal_answer_days: int = 30
    appeal_max_extension_days: int = 30
    appeal_status_limit: Limit = field(default_factory=lambda: Limit(20, 3600))
    # Media: the largest upload, the largest image (pixels, against decompression
    # bombs), the allowed rendition widths and aspect ratios, parallel renderings.
    media_max_bytes: int = 20 * 1024 * 1024
    media_max_pixels: int = 60_000_000
    rendition_widths: tuple[int, ...] = DEFAULT_RENDITION_WIDTHS
    rendition_ratios: tuple[tuple[int, int], ...] = DEFAULT_RENDITION_RATIOS
    rendition_concurrency: int = 2
    # Where media bytes live: "local" (CMS_MEDIA_ROOT) or "s3", an S3-compatible
    # bucket (CMS_S3_*); with s3 the media root still holds uploads being received.
    # Parts of s3_part_size bytes stream larger files up (multipart upload); with
    # s3_presign, GET /media/... redirects to a URL signed for s3_presign_seconds.
    media_storage: str = "local"
    s3_endpoint: str | None = None
    s3_bucket: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key: str | None = None
    s3_secret_key: str | None = field(default=None, repr=False)
    s3_prefix: str = ""
    s3_part_size: int = 8 * 1024 * 1024
    s3_presign: bool = False
    s3_presign_seconds: int = 900
    # Operation limits, checked before execution (graphql_schema/limits.py). The
    # defaults leave every GraphiQL example, bench query and realistic page (the
    # dearest, the deep agreement query, costs about 3,000) at a third of each limit
    # or less (tests/api/test_cost.py). Plain lists count at cost_list_size in the
    # cost; connections at their first/last or the page cap; weights in limits.py.
    max_query_bytes: int = 262_144
    max_tokens: int = 5_000
    max_depth: int = 15
    max_aliases: int = 50
    max_directives: int = 50
    max_fragments: int = 100
    max_cost: int = 10_000
    cost_list_size: int = 10
    # The largest answer in bytes: a larger one is replaced by a LIMIT_EXCEEDED error.
    max_response_bytes: int = 5 * 1024 * 1024
    # Operations costing more than expensive_cost run at most expensive_concurrency at
    # once per process; others wait up to expensive_wait_ms, then get a 503.
    expensive_cost: int = 5_000
    expensive_concurrency: int = 2
    expensive_wait_ms: int = 2_000
    introspection: str = INTROSPECTION_AUTO  # or "on", "off"
    # Browser origins allowed to call the API (CORS), as configured; none by default.
    # `cors_allowed_origins` adds the front-end's own origin in development.
    cors_origins: tuple[str, ...] = ()
    # The response cache of public reads (in process, or in Redis with CMS_REDIS_URL):
    # on/off, how many entries and bytes one process keeps, and how long an entry lives
    # at most (content changes invalidate entries at once; this only bounds memory).
    response_cache: bool = True
    response_cache_max_entries: int = 10_000
    response_cache_max_bytes: int = 64 * 1024 * 1024
    response_cache_ttl: int = 3600
    # HTTP caching of anonymous GET queries: Cache-Control max-age and
    # stale-while-revalidate, both cut short by the next scheduled publication.
    http_cache_max_age: int = 60
    http_cache_swr: int = 300
    # Trusted documents: the public endpoint runs only registered operations.
    trusted_documents: bool = False
    # Items in each RSS, Atom and JSON feed.
    feed_length: int = 50

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


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    mode = env.get("CMS_ENV", DEVELOPMENT).strip().lower()
    if mode not in (DEVELOPMENT, PRODUCTION):
        raise SettingsError(f"CMS_ENV must be 'development' or 'production', not {mode!r}")
    secret_key = env.get("CMS_SECRET_KEY", "")
    if not secret_key:
        if mode == PRODUCTION:
            raise SettingsError("CMS_SECRET_KEY is required when CMS_ENV=production")
        secret_key = _development_secret_key()
    host = env.get("CMS_HOST", "127.0.0.1")
    port = _int(env, "CMS_PORT", 8000, minimum=1)
    public_url = (env.get("CMS_PUBLIC_URL") or _listen_url(host, port)).rstrip("/")
    defaults = UrlTemplates()
    templates = UrlTemplates(
        news=env.get("CMS_URL_NEWS", defaults.news),
        agreement=env.get("CMS_URL_AGREEMENT", defaults.agreement),
        action_plan=env.get("CMS_URL_ACTION_PLAN", defaults.action_plan),
        enterprise=env.get("CMS_URL_ENTERPRISE", defaults.enterprise),
    )
    for template in (
        templates.news,
        templates.agreement,
        templates.action_plan,
        templates.enterprise,
    ):
        if "{slug}" not in template:
            raise SettingsError(f"A URL template must contain {{slug}}: {template!r}")
    return Settings(
        env=mode,
        database_url=env.get("CMS_DATABASE_URL") or _default_database_url(),
        host=host,
        port=port,
        workers=_int(env, "CMS_WORKERS", 1, minimum=1),
        redis_url=env.get("CMS_REDIS_URL") or None,
        redis_prefix=env.get("CMS_REDIS_PREFIX") or "cms",
        redis_max_connections=_int(env, "CMS_REDIS_MAX_CONNECTIONS", 50, minimum=1),
        redis_pool_timeout=_seconds(env, "CMS_REDIS_POOL_TIMEOUT", 1.0),
        redis_socket_timeout=_seconds(env, "CMS_REDIS_SOCKET_TIMEOUT", 1.0),
        redis_connect_timeout=_seconds(env, "CMS_REDIS_CONNECT_TIMEOUT", 1.0),
        media_root=Path(env.get("CMS_MEDIA_ROOT", "uploads")).resolve(),
        secret_key=secret_key,
        site_url=env.get("CMS_SITE_URL", "http://localhost:3000").rstrip("/"),
        public_url=public_url,
        richtext_image_hosts=_image_hosts(env),
        admin_email=env.get("CMS_ADMIN_EMAIL") or None,
        admin_password=env.get("CMS_ADMIN_PASSWORD") or None,
        url_templates=templates,
        page_size_default=_int(env, "CMS_PAGE_SIZE_DEFAULT", 20, minimum=1),
        page_size_max=_int(env, "CMS_PAGE_SIZE_MAX", 100, minimum=1),
        # An IDE for the public is no production default: on where it is asked for.
        graphiql=_bool(env, "CMS_GRAPHIQL", mode != PRODUCTION),
        access_log=_bool(env, "CMS_ACCESS_LOG", True),
        log_level=env.get("CMS_LOG_LEVEL", "INFO").upper(),
        max_body_size=_int(env, "CMS_MAX_BODY_SIZE", 1_048_576, minimum=1024),
        session_ttl_seconds=_int(env, "CMS_SESSION_TTL", 12 * 3600, minimum=60),
        trusted_proxies=_networks(env, "CMS_TRUSTED_PROXIES"),
        login_limit_account_address=_limit(env, "CMS_LOGIN_LIMIT_ACCOUNT_ADDRESS", "5/900"),
        login_limit_account=_limit(env, "CMS_LOGIN_LIMIT_ACCOUNT", "50/3600"),
        login_limit_address=_limit(env, "CMS_LOGIN_LIMIT_ADDRESS", "30/900"),
        password_threads=_int(env, "CMS_PASSWORD_THREADS", 2, minimum=1),
        password_queue=_int(env, "CMS_PASSWORD_QUEUE", 64, minimum=0),
        rate_limit_anonymous=_limit(env, "CMS_RATE_LIMIT_ANONYMOUS", "600/60"),
        rate_limit_token=_limit(env, "CMS_RATE_LIMIT_TOKEN", "6000/60"),
        trash_retention_days=_int(env, "CMS_TRASH_RETENTION_DAYS", 30, minimum=0),
        feedback_limit_address=_limit(env, "CMS_FEEDBACK_LIMIT_ADDRESS", "10/3600"),
        feedback_limit_contact=_limit(env, "CMS_FEEDBACK_LIMIT_CONTACT", "5/3600"),
        feedback_dedupe_seconds=_int(env, "CMS_FEEDBACK_DEDUPE_SECONDS", 600, minimum=0),
        feedback_retention_days=_int(env, "CMS_FEEDBACK_RETENTION_DAYS", 1825, minimum=1),
        feedback_retention_mode=_choice(
            env, "CMS_FEEDBACK_RETENTION_MODE", ("anonymize", "delete"), "anonymize"
        ),
        smtp_url=_smtp_url(env, "CMS_SMTP_URL"),
        feedback_notify_to=_addresses(env, "CMS_FEEDBACK_NOTIFY_TO"),
        feedback_notify_from=env.get("CMS_FEEDBACK_NOTIFY_FROM") or "cms@localhost",
        feedback_queue_url=env.get("CMS_FEEDBACK_QUEUE_URL") or public_url + "/graphql",
        appeal_registration=_choice(env, "CMS_APPEAL_REGISTRATION", ("auto", "manual"), "auto"),
        appeal_number_pattern=_number_pattern(env, "CMS_APPEAL_NUMBER_PATTERN"),
        appeal_timezone=_timezone(env, "CMS_APPEAL_TIMEZONE", "Asia/Vladivostok"),
        appeal_calendar=_choice(env, "CMS_APPEAL_CALENDAR", ("ru", "weekends"), "ru"),
        appeal_registration_days=_int(env, "CMS_APPEAL_REGISTRATION_DAYS", 3, minimum=1),
        appeal_answer_days=_int(env, "CMS_APPEAL_ANSWER_DAYS", 30, minimum=1),
        appeal_max_extension_days=_int(env, "CMS_APPEAL_MAX_EXTENSION_DAYS", 30, minimum=1),
        appeal_status_limit=_limit(env, "CMS_APPEAL_STATUS_LIMIT", "20/3600"),
        media_max_bytes=_int(env, "CMS_MEDIA_MAX_BYTES", 20 * 1024 * 1024, minimum=1024),
        media_max_pixels=_int(env, "CMS_MEDIA_MAX_PIXELS", 60_000_000, minimum=10_000),
        rendition_widths=_widths(env, "CMS_RENDITION_WIDTHS"),
        rendition_ratios=_ratios(env, "CMS_RENDITION_RATIOS"),
        rendition_concurrency=_int(env, "CMS_RENDITION_CONCURRENCY", 2, minimum=1),
        **_s3(env),
        max_query_bytes=_int(env, "CMS_MAX_QUERY_BYTES", 262_144, minimum=1024),
        max_tokens=_int(env, "CMS_MAX_TOKENS", 5_000, minimum=100),
        max_depth=_int(env, "CMS_MAX_DEPTH", 15, minimum=2),
        max_aliases=_int(env, "CMS_MAX_ALIASES", 50, minimum=0),
        max_directives=_int(env, "CMS_MAX_DIRECTIVES", 50, minimum=0),
        max_fragments=_int(env, "CMS_MAX_FRAGMENTS", 100, minimum=0),
        max_cost=_int(env, "CMS_MAX_COST", 10_000, minimum=1),
        cost_list_size=_int(env, "CMS_COST_LIST_SIZE", 10, minimum=1),
        max_response_bytes=_int(env, "CMS_MAX_RESPONSE_BYTES", 5 * 1024 * 1024, minimum=1024),
        expensive_cost=_int(env, "CMS_EXPENSIVE_COST", 5_000, minimum=1),
        expensive_concurrency=_int(env, "CMS_EXPENSIVE_CONCURRENCY", 2, minimum=1),
        expensive_wait_ms=_int(env, "CMS_EXPENSIVE_WAIT_MS", 2_000, minimum=0),
        introspection=_choice(env, "CMS_INTROSPECTION", INTROSPECTION_CHOICES, INTROSPECTION_AUTO),
        cors_origins=_origins(env, "CMS_CORS_ORIGINS"),
        response_cache=_bool(env, "CMS_RESPONSE_CACHE", True),
        response_cache_max_entries=_int(env, "CMS_RESPONSE_CACHE_MAX_ENTRIES", 10_000, minimum=1),
        response_cache_max_bytes=_int(
            env, "CMS_RESPONSE_CACHE_MAX_BYTES", 64 * 1024 * 1024, minimum=1024
        ),
        response_cache_ttl=_int(env, "CMS_RESPONSE_CACHE_TTL", 3600, minimum=1),
        http_cache_max_age=_int(env, "CMS_HTTP_CACHE_MAX_AGE", 60, minimum=0),
        http_cache_swr=_int(env, "CMS_HTTP_CACHE_SWR", 300, minimum=0),
        trusted_documents=_bool(env, "CMS_TRUSTED_DOCUMENTS", False),
        feed_length=_int(env, "CMS_FEED_LENGTH", 50, minimum=1),
    )


MEDIA_STORAGES = ("local", "s3")
_S3_PREFIX = re.compile(r"[a-z0-9][a-z0-9_.-]*(/[a-z0-9][a-z0-9_.-]*)*")


class _S3Settings(TypedDict):
    media_storage: str
    s3_endpoint: str | None
    s3_bucket: str | None
    s3_region: str
    s3_access_key: str | None
    s3_secret_key: str | None
    s3_prefix: str
    s3_part_size: int
    s3_presign: bool
    s3_presign_seconds: int


def _s3(env: Mapping[str, str]) -> _S3Settings:
    """CMS_MEDIA_STORAGE and the CMS_S3_* settings; with s3, the endpoint, bucket and
    keys are required (the secret is never repeated in a message)."""
    storage = _choice(env, "CMS_MEDIA_STORAGE", MEDIA_STORAGES, "local")
    values: _S3Settings = {
        "media_storage": storage,
        "s3_endpoint": (env.get("CMS_S3_ENDPOINT") or "").strip().rstrip("/") or None,
        "s3_bucket": (env.get("CMS_S3_BUCKET") or "").strip() or None,
        "s3_region": (env.get("CMS_S3_REGION") or "").strip() or "us-east-1",
        "s3_access_key": env.get("CMS_S3_ACCESS_KEY") or None,
        "s3_secret_key": env.get("CMS_S3_SECRET_KEY") or None,
        "s3_prefix": (env.get("CMS_S3_PREFIX") or "").strip().strip("/"),
        # S3 refuses parts under 5 MiB (except the last one).
        "s3_part_size": _int(env, "CMS_S3_PART_SIZE", 8 * 1024 * 1024, minimum=5 * 1024 * 1024),
        "s3_presign": _bool(env, "CMS_S3_PRESIGN", False),
        "s3_presign_seconds": _int(env, "CMS_S3_PRESIGN_SECONDS", 900, minimum=10),
    }
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
    if storage == "s3":
        required = {
            "CMS_S3_ENDPOINT": values["s3_endpoint"],
            "CMS_S3_BUCKET": values["s3_bucket"],
            "CMS_S3_ACCESS_KEY": values["s3_access_key"],
            "CMS_S3_SECRET_KEY": values["s3_secret_key"],
        }
        missing = [name for name, value in required.items() if value is None]
        if missing:
            raise SettingsError(f"CMS_MEDIA_STORAGE=s3 needs {', '.join(missing)}")
    return values


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


def _limit(env: Mapping[str, str], name: str, default: str) -> Limit:
    raw = env.get(name) or default
    try:
        return Limit.parse(raw)
    except ValueError:
        raise SettingsError(
            f"{name} must look like COUNT/SECONDS (e.g. 5/60), not {raw!r}"
        ) from None


def _networks(env: Mapping[str, str], name: str) -> tuple[Network, ...]:
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


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = (env.get(name) or default).strip().lower()
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _number_pattern(env: Mapping[str, str], name: str) -> str:
    """A str.format pattern with {year} and {seq} (format specs allowed, e.g.
    {seq:05d}); the sequence restarts every year, so both must be in it."""
    pattern = env.get(name) or "ОГ-{year}-{seq:05d}"
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


def _smtp_url(env: Mapping[str, str], name: str) -> str | None:
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


def _addresses(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    addresses = tuple(part.strip() for part in env.get(name, "").split(",") if part.strip())
    for address in addresses:
        if "@" not in address:
            raise SettingsError(f"{name} must be a comma-separated list of e-mails: {address!r}")
    return addresses


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
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


def _image_hosts(env: Mapping[str, str]) -> tuple[str, ...]:
    """The CMS's own media host, then CMS_RICHTEXT_IMAGE_HOSTS (default: the site's)."""
    own = urlsplit(env.get("CMS_PUBLIC_URL", "http://127.0.0.1:8000")).hostname or ""
    raw = env.get("CMS_RICHTEXT_IMAGE_HOSTS", "")
    configured = [part.strip().lower() for part in raw.split(",") if part.strip()]
    for host in configured:
        if not _HOST.fullmatch(host):
            raise SettingsError(
                "CMS_RICHTEXT_IMAGE_HOSTS must be comma-separated host names like "
                f"cdn.invest.example (no scheme, port or path), not {host!r}"
            )
    if not raw.strip():
        site = urlsplit(env.get("CMS_SITE_URL", "http://localhost:3000")).hostname
        configured = [site] if site else []
    return tuple(dict.fromkeys(host for host in (own, *configured) if host))


def _widths(env: Mapping[str, str], name: str) -> tuple[int, ...]:
    raw = env.get(name, "").replace(",", " ").split()
    if not raw:
        return DEFAULT_RENDITION_WIDTHS
    try:
        widths = tuple(sorted({int(part) for part in raw}))
    except ValueError:
        raise SettingsError(f"{name} must be widths in pixels (e.g. 320 640): {raw!r}") from None
    if widths[0] < 16 or widths[-1] > 8192:
        raise SettingsError(f"{name} must lie between 16 and 8192 pixels: {raw!r}")
    return widths


def _ratios(env: Mapping[str, str], name: str) -> tuple[tuple[int, int], ...]:
    raw = env.get(name, "").replace(",", " ").split()
    if not raw:
        return DEFAULT_RENDITION_RATIOS
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
