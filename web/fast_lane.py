"""The fast lane: anonymous cache hits answered at the ASGI level.

A hit costs a header scan, a query-string or JSON parse, two SHA-256 digests, one
store lookup (a dict access in process, one MGET in Redis) and the anonymous rate
limit: no routing, no Strawberry, no GraphQL parsing, no database. Anything else
(a miss, a caller with credentials, an upload, anything unusual) falls through
untouched to the application, with the body replayed when it was read; the view
computes the same key (`cache_key`) and stores what it executes.

It is the outermost middleware, so a hit pays for nothing else: it writes the hit's
access log line itself (web/access_log.py), reads a body only below the
body limit, and lets requests with an Origin header (browsers calling across origins)
through to the CORS middleware. A failure while looking up is logged and falls
through, so a Redis outage makes requests slower, never failed.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cms.runtime import Runtime
from cms.services.network import client_address
from cms.services.ratelimit import hit_request_limit
from cms.services.viewer import Viewer
from web import http_cache
from web.access_log import log_request
from web.response_cache import (
    CachedResponse,
    cache_key,
    canonical_variables,
    document_hash,
)
from web.view import rate_limited_response

logger = logging.getLogger("cms.fast_lane")

_JSON = b"application/json"
_Headers = list[tuple[bytes, bytes]]
# Bodies larger than this are not worth a lookup (no client sends such cached reads).
_MAX_BODY = 64 * 1024


def _request_key(params: dict[str, Any]) -> str | None:
    """The response cache key of a GraphQL request's parameters, or None when the
    request is anything but a plain (or persisted) single operation."""
    query = params.get("query")
    extensions = params.get("extensions")
    variables = params.get("variables")
    operation_name = params.get("operationName")
    if not isinstance(variables, dict | None) or not isinstance(operation_name, str | None):
        return None
    claimed: str | None = None
    if extensions is not None:
        if not isinstance(extensions, dict):
            return None
        persisted = extensions.get("persistedQuery")
        if persisted is not None:
            if not isinstance(persisted, dict) or persisted.get("version") != 1:
                return None
            claimed = persisted.get("sha256Hash")
            if not isinstance(claimed, str) or len(claimed) != 64:
                return None
            claimed = claimed.lower()
    if isinstance(query, str):
        digest = document_hash(query)
        if claimed is not None and claimed != digest:
            return None  # a hash mismatch: the view answers it
    elif query is None and claimed is not None:
        digest = claimed
    else:
        return None
    return cache_key(digest, canonical_variables(variables), operation_name)


def _get_params(query_string: bytes) -> dict[str, Any] | None:
    # The same decoding as Starlette's QueryParams, so both sides see the same text.
    params: dict[str, Any] = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
    for name in ("variables", "extensions"):
        raw = params.get(name)
        if raw is not None:
            if raw == "":
                return None
            params[name] = orjson.loads(raw)
    return params


class _Memo:
    """Raw request bytes (a query string or a JSON body) -> cache key: hot queries
    repeat byte for byte, so a hit skips decoding and hashing. Bounded: cleared when
    full (cheaper than LRU bookkeeping; it refills with what is hot)."""

    def __init__(self, size: int = 2048) -> None:
        self._keys: dict[bytes, str | None] = {}
        self._size = size

    def get(self, raw: bytes) -> str | bool | None:
        return self._keys.get(raw, False)

    def put(self, raw: bytes, key: str | None) -> None:
        if len(raw) > 4096:  # at most 8 MB held, whatever callers send
            return
        if len(self._keys) >= self._size:
            self._keys.clear()
        self._keys[raw] = key


class FastLane:
    def __init__(
        self, app: ASGIApp, *, runtime: Runtime, sql_count_header: bool, path: str = "/graphql"
    ) -> None:
        self.app = app
        self.log_lines = runtime.settings.access_log
        self.max_body = min(_MAX_BODY, runtime.settings.max_body_size)
        self.extra_headers: _Headers = [(b"x-sql-count", b"0")] if sql_count_header else []
        self.runtime = runtime
        self.settings = runtime.settings
        self.cache = runtime.response_cache
        self.path = path
        self._get_keys = _Memo()
        self._post_keys = _Memo()
        # (etag, surrogate keys) -> the headers of a GET answer, for entries whose
        # headers do not depend on the time (nothing scheduled before they expire).
        self._headers: dict[tuple[str, str], tuple[_Headers, _Headers]] = {}
        self._horizon = self.settings.http_cache_max_age + self.settings.http_cache_swr

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != self.path
            or not self.cache.enabled
            or scope["method"] not in ("GET", "POST")
        ):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        content_type = content_length = if_none_match = forwarded_for = None
        for name, value in scope["headers"]:
            if name == b"authorization" or name == b"origin":
                # Tokens are checked against the database: the view does that. CORS
                # headers are the CORS middleware's.
                await self.app(scope, receive, send)
                return
            if name == b"content-type":
                content_type = value
            elif name == b"content-length":
                content_length = value
            elif name == b"if-none-match":
                if_none_match = value
            elif name == b"x-forwarded-for":
                forwarded_for = value
        method = scope["method"]
        body: bytes | None = None
        if method == "POST":
            if (
                content_type is None
                or content_type.split(b";", 1)[0].strip().lower() != _JSON
                or content_length is None
                or not content_length.isdigit()
                or int(content_length) > self.max_body
            ):
                await self.app(scope, receive, send)
                return
            body = await _read_body(receive)
            receive = _replay(body, receive)
        entry = await self._hit(scope, body)
        if entry is None:
            await self.app(scope, receive, send)
            return
        peer = scope.get("client")
        viewer = Viewer(
            address=client_address(
                peer[0] if peer else None,
                forwarded_for.decode("latin-1") if forwarded_for is not None else None,
                self.settings.trusted_proxies,
            )
        )
        decision = await hit_request_limit(self.runtime.limiter, viewer, self.settings)
        if not decision.allowed:
            refusal = rate_limited_response(decision.retry_after)
            refusal.raw_headers.extend(self.extra_headers)
            await refusal(scope, receive, send)
            status = refusal.status_code
        else:
            status = await self._answer(entry, method, if_none_match, send)
        if self.log_lines:
            log_request(method, scope["path"], status, started, 0)

    def _key(self, raw: bytes, is_get: bool) -> str | None:
        memo = self._get_keys if is_get else self._post_keys
        known = memo.get(raw)
        if known is not False:
            return known  # type: ignore[return-value]
        params = _get_params(raw) if is_get else orjson.loads(raw)
        key = _request_key(params) if isinstance(params, dict) else None
        memo.put(raw, key)
        return key

    async def _hit(self, scope: Scope, body: bytes | None) -> CachedResponse | None:
        try:
            key = self._key(scope["query_string"] if body is None else body, body is None)
            if key is None:
                return None
            entry, _ = await self.cache.lookup(key)
            return entry
        except orjson.JSONDecodeError:
            return None  # the view answers bad JSON with its own 400
        except Exception:
            logger.exception("fast lane lookup failed; answering through the application")
            return None

    async def _answer(
        self, entry: CachedResponse, method: str, if_none_match: bytes | None, send: Send
    ) -> int:
        """Sends the entry; returns the status sent."""
        if method != "GET":
            headers = http_cache.json_headers(entry.body)
            headers.append((b"cache-control", http_cache.PRIVATE))
            headers.extend(self.extra_headers)
            await _send(send, 200, headers, entry.body)
            return 200
        # Headers depend on the time only when a publication is due within
        # max-age + stale-while-revalidate; otherwise they are kept per entry.
        static = not entry.go_live or entry.go_live - time.time() > self._horizon
        # Equal bytes may come from queries naming different content: keys are part of it.
        memo_key = (entry.etag, entry.surrogate_keys)
        memo = self._headers.get(memo_key) if static else None
        if memo is None:
            public = [*http_cache.public_headers(entry, self.settings), *self.extra_headers]
            memo = ([*http_cache.json_headers(entry.body), *public], public)
            if static:
                if len(self._headers) >= 4096:
                    self._headers.clear()
                self._headers[memo_key] = memo
        if if_none_match is not None and http_cache.not_modified(
            if_none_match.decode("latin-1"), entry.etag
        ):
            await _send(send, 304, memo[1], b"")
            return 304
        await _send(send, 200, memo[0], entry.body)
        return 200


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the already read body to the application once."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
