"""The fast lane: anonymous cache hits answered at the ASGI level.

A hit costs a header scan, a query-string or JSON parse, two SHA-256 digests, one
store lookup (a dict access in process, one MGET in Redis) and the anonymous rate
limit: no routing, no Strawberry, no GraphQL parsing, no database. Anything else
(a miss, a caller with credentials, an upload, anything unusual) falls through
to the application, with the body replayed when it was read. On a miss, what the
lane computed (the parameters, the document's hash, the cache key and the
stamp read with the lookup) is handed to the view in the ASGI scope
(`web.params.Prepared`): the view neither parses, hashes nor looks up again, and
stores what it executes under that key.

It is the outermost middleware but for the request id (web/request_id.py), so a
hit pays for nothing else: it writes the hit's
access log line itself (web/access_log.py), reads a body only below the
body limit, and lets requests with an Origin header (browsers calling across origins)
through to the CORS middleware. A failure while looking up is logged and falls
through, so a Redis outage makes requests slower, never failed.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cms.runtime import Runtime
from cms.services.network import client_address
from cms.services.ratelimit import hit_address_limit
from cms.services.trusted_documents import document_hash
from web import http_cache, params
from web.access_log import log_request
from web.params import PREPARED, GraphQLParams, Prepared
from web.request_id import CACHE, OPERATION
from web.response_cache import (
    UNKNOWN_STAMP,
    CachedResponse,
    ResponseCache,
    cache_key,
    canonical_variables,
)
from web.responses import rate_limited

logger = logging.getLogger("cms.fast_lane")

_JSON = b"application/json"
_Headers = list[tuple[bytes, bytes]]
# Bodies larger than this are not worth a lookup (no client sends such cached reads).
_MAX_BODY = 64 * 1024
# What a request's raw bytes come to: its parameters, its document's hash and its
# cache key (both None when it is anything but a plain or persisted single operation);
# None when the view must answer it (it cannot be read).
_Parsed = tuple[GraphQLParams, str | None, str | None] | None


def _request_key(data: GraphQLParams) -> tuple[str | None, str | None]:
    """The document hash and the response cache key of a request, or (None, None)."""
    claimed: str | None = None
    if data.extensions is not None:
        persisted = data.extensions.get("persistedQuery")
        if persisted is not None:
            if not isinstance(persisted, dict) or persisted.get("version") != 1:
                return None, None
            claimed = persisted.get("sha256Hash")
            if not isinstance(claimed, str) or len(claimed) != 64:
                return None, None
            claimed = claimed.lower()
    if data.query is not None:
        digest = document_hash(data.query)
        if claimed is not None and claimed != digest:
            return None, None  # a hash mismatch: the view answers it
    elif claimed is not None:
        digest = claimed
    else:
        return None, None
    return digest, cache_key(digest, canonical_variables(data.variables), data.operation_name)


def _parse(raw: bytes, is_get: bool) -> _Parsed:
    read = params.from_query_string(raw) if is_get else params.from_json(raw)
    if isinstance(read, params.Problem):
        return None
    return (read, *_request_key(read))


class _Memo:
    """Raw request bytes (a query string or a JSON body) -> what they parse to: hot
    queries repeat byte for byte, so a hit skips decoding and hashing. Bounded:
    cleared when full (cheaper than LRU bookkeeping; it refills with what is hot).
    The parameters are shared by the requests that sent the same bytes: nothing
    changes them."""

    def __init__(self, size: int = 2048) -> None:
        self._parsed: dict[bytes, _Parsed] = {}
        self._size = size

    def get(self, raw: bytes, is_get: bool) -> _Parsed:
        try:
            return self._parsed[raw]
        except KeyError:
            pass
        parsed = _parse(raw, is_get)
        if len(raw) <= 4096:  # at most 8 MB held, whatever callers send
            if len(self._parsed) >= self._size:
                self._parsed.clear()
            self._parsed[raw] = parsed
        return parsed


class FastLane:
    def __init__(
        self,
        app: ASGIApp,
        *,
        runtime: Runtime,
        cache: ResponseCache,
        sql_count_header: bool,
        path: str = "/graphql",
    ) -> None:
        self.app = app
        self.log_lines = runtime.settings.access_log
        self.max_body = min(_MAX_BODY, runtime.settings.max_body_size)
        self.extra_headers: _Headers = [(b"x-sql-count", b"0")] if sql_count_header else []
        self.runtime = runtime
        self.settings = runtime.settings
        self.cache = cache
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
        entry = await self._hit(scope, body)
        if entry is None:
            await self.app(scope, receive if body is None else _replay(body, receive), send)
            return
        peer = scope.get("client")
        address = client_address(
            peer[0] if peer else None,
            forwarded_for.decode("latin-1") if forwarded_for is not None else None,
            self.settings.trusted_proxies,
        )
        decision = await hit_address_limit(self.runtime.limiter, address, self.settings)
        if not decision.allowed:
            refusal = rate_limited(decision.retry_after)
            refusal.raw_headers.extend(self.extra_headers)
            await refusal(scope, receive, send)
            status = refusal.status_code
        else:
            status = await self._answer(entry, method, if_none_match, send)
        if self.log_lines:
            log_request(method, scope["path"], status, started, 0)

    async def _hit(self, scope: Scope, body: bytes | None) -> CachedResponse | None:
        """The cached answer, or None; on a miss, what was computed is left in the
        scope for the view (`Prepared`)."""
        is_get = body is None
        memo = self._get_keys if is_get else self._post_keys
        parsed = memo.get(scope["query_string"] if body is None else body, is_get)
        if parsed is None:
            return None  # the view answers what cannot be read
        data, digest, key = parsed
        scope[OPERATION] = data.operation_name
        stamp = UNKNOWN_STAMP
        if key is not None:
            try:
                entry, stamp = await self.cache.lookup(key)
            except Exception:
                logger.exception(
                    "response cache lookup failed in the fast lane; answering uncached"
                )
                key = None
            else:
                scope[CACHE] = "miss" if entry is None else "hit"
                if entry is not None:
                    return entry
        scope[PREPARED] = Prepared(data, digest, key, stamp)
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
