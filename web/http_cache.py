"""HTTP caching of public GraphQL reads: the headers (ETag, Cache-Control,
Surrogate-Key, Cache-Tag, 304) that the view and the fast lane answer with.

Surrogate keys name what a response holds so that a CDN can purge exactly that
(cms/services/surrogate_keys.py); the schema collects them while it resolves into the
request's Context, the view stores them with the entry, and a change purges the same
keys (web/cdn_purge.py) as it voids the entries holding them.
"""

from __future__ import annotations

import time

from cms.settings import Settings
from web.response_cache import CachedResponse

PRIVATE = b"private, no-store"
NO_STORE = b"no-store"


# ---------------------------------------------------------------- headers


def cache_control(settings: Settings, go_live: float, now: float | None = None) -> bytes:
    """Public caching, never past the next scheduled publication (`go_live`, epoch
    seconds, 0 when none): neither fresh nor stale-while-revalidate beyond it."""
    max_age = settings.http_cache_max_age
    stale = settings.http_cache_swr
    if go_live:
        remaining = max(0, int(go_live - (now if now is not None else time.time())))
        max_age = min(max_age, remaining)
        stale = min(stale, remaining - max_age)
    return b"public, max-age=%d, stale-while-revalidate=%d" % (max_age, stale)


def public_headers(entry: CachedResponse, settings: Settings) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"etag", entry.etag.encode()),
        (b"cache-control", cache_control(settings, entry.go_live)),
        # A shared cache must not hand the anonymous answer to a caller with a token.
        (b"vary", b"Authorization"),
    ]
    if entry.surrogate_keys and settings.surrogate_key_headers:
        keys = entry.surrogate_keys.encode()
        headers.append((b"surrogate-key", keys))  # Fastly, Varnish: space-separated
        headers.append((b"cache-tag", keys.replace(b" ", b",")))  # Cloudflare: commas
    return headers


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match matches (weak comparison, as RFC 9110 asks for this header)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))


def json_headers(body: bytes) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
