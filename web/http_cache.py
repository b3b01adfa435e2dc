"""HTTP caching of public GraphQL reads: the per-request cache state, surrogate keys
collected during resolution, and the headers (ETag, Cache-Control, Surrogate-Key,
Cache-Tag, 304) that the view and the fast lane answer with.

Surrogate keys name what a response holds so that a CDN can purge exactly that:
`News:12` for every object turned into a GraphQL type (recorded by `global_id`, the
one place every node type's id is made), and `news-list` for every connection of a
type (so that creating an item purges the lists it may join).
"""

from __future__ import annotations

import re
import time
from contextvars import ContextVar
from dataclasses import dataclass, field

from cms.settings import Settings
from web.response_cache import CachedResponse

PRIVATE = b"private, no-store"
NO_STORE = b"no-store"


@dataclass(slots=True)
class CacheState:
    """One public request on its way through execution: where its response goes in
    the response cache (None: it is not stored) and the surrogate keys seen."""

    key: str | None
    generation: int
    keys: set[str] = field(default_factory=set)
    is_query: bool = False
    succeeded: bool = False
    # Set by a resolver whose answer must never be stored or shared (mark_private).
    private: bool = False


current_state: ContextVar[CacheState | None] = ContextVar("cms_cache_state", default=None)


def mark_private() -> None:
    """This response is for its caller alone (e.g. a status check by a contact): never
    kept in the response cache nor marked cacheable for shared caches."""
    state = current_state.get()
    if state is not None:
        state.private = True


def record_node(type_name: str, pk: int) -> None:
    state = current_state.get()
    if state is not None:
        state.keys.add(f"{type_name}:{pk}")


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def list_key(type_name: str) -> str:
    """ "ActionPlan" -> "action-plan-list"."""
    return _CAMEL.sub("-", type_name).lower() + "-list"


def record_list(type_name: str) -> None:
    state = current_state.get()
    if state is not None:
        state.keys.add(list_key(type_name))


def surrogate_keys(keys: set[str]) -> str:
    return " ".join(sorted(keys))


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
    if entry.surrogate_keys:
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
