"""Persisted queries: Apollo's automatic persisted queries (APQ) and trusted documents.

APQ, the protocol Apollo Client's and urql's persisted-query links speak:
`extensions: {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}`
- without `query`: the stored document runs, or the answer is HTTP 200
  `{"errors":[{"message":"PersistedQueryNotFound","extensions":{"code":
  "PERSISTED_QUERY_NOT_FOUND"}}]}`, on which the link retries with the text;
- with `query`: the hash must be the SHA-256 of the text; it is stored and runs.
Registrations live in the response cache's store (bounded memory, or Redis).

Trusted documents (CMS_TRUSTED_DOCUMENTS=on): callers other than logged-in staff run
only documents registered with `python -m cms register-documents` (by id, or by
sending a registered text); APQ registration is closed to them. The registered set
is read once per process; an unknown id costs one indexed lookup, and repeated
unknown ids within a few seconds none.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from cms.errors import Code
from cms.services import trusted_documents
from cms.services.trusted_documents import document_hash
from cms.services.viewer import Viewer
from cms.settings import Settings
from web.response_cache import ResponseCache
from web.responses import error_response

_DOCUMENT_ID = re.compile(r"^[A-Za-z0-9_:.\-]{1,128}$")
_NEGATIVE_SECONDS = 5.0


def _not_found() -> Response:
    # The exact message and code clients' links test for before retrying with the text.
    return error_response(200, "PersistedQueryNotFound", Code.PERSISTED_QUERY_NOT_FOUND)


@dataclass(frozen=True, slots=True)
class Resolved:
    query: str | None
    doc_hash: str | None  # SHA-256 of `query`: the response cache's document key


class TrustedSet:
    """The registered documents, held in process once read."""

    def __init__(self, max_misses: int = 10_000) -> None:
        self._by_id: dict[str, tuple[str, str]] | None = None
        self._by_sha: dict[str, str] = {}
        self._misses: OrderedDict[str, float] = OrderedDict()
        self._max_misses = max_misses

    async def _loaded(self) -> dict[str, tuple[str, str]]:
        if self._by_id is None:
            self._by_id = await trusted_documents.all_documents()
            self._by_sha = {sha: body for sha, body in self._by_id.values()}
        return self._by_id

    def _recently_missed(self, key: str) -> bool:
        missed = self._misses.get(key)
        return missed is not None and time.monotonic() - missed < _NEGATIVE_SECONDS

    def _miss(self, key: str) -> None:
        self._misses[key] = time.monotonic()
        self._misses.move_to_end(key)
        while len(self._misses) > self._max_misses:
            self._misses.popitem(last=False)

    async def by_id(self, document_id: str) -> tuple[str, str] | None:
        """(sha256, body) of a registered id; documents registered after this process
        read the set are found by one lookup."""
        known = await self._loaded()
        found = known.get(document_id)
        if found is None and not self._recently_missed(document_id):
            found = await trusted_documents.find(document_id)
            if found is None:
                self._miss(document_id)
            else:
                known[document_id] = found
                self._by_sha[found[0]] = found[1]
        return found

    async def has_text(self, sha256: str) -> bool:
        await self._loaded()
        if sha256 in self._by_sha:
            return True
        if self._recently_missed("sha:" + sha256):
            return False
        found = await trusted_documents.find_by_sha256(sha256)
        if found is None:
            self._miss("sha:" + sha256)
            return False
        self._by_sha[sha256] = found[1]
        return True


class PersistedQueries:
    def __init__(self, cache: ResponseCache, settings: Settings) -> None:
        self.cache = cache
        self.trusted_mode = settings.trusted_documents
        self.trusted = TrustedSet()
        self.max_length = settings.max_body_size

    def _restricted(self, viewer: Viewer) -> bool:
        # Logged-in staff (GraphiQL included) run anything; the public and API tokens
        # run registered documents only.
        return self.trusted_mode and viewer.user_id is None

    async def resolve(
        self,
        query: str | None,
        extensions: dict[str, Any] | None,
        viewer: Viewer,
        digest: str | None = None,
    ) -> Resolved | Response:
        """The text to run and its hash, or the answer that refuses it. `digest` is the
        hash of `query` when the fast lane computed it already."""
        persisted = extensions.get("persistedQuery") if extensions else None
        restricted = self._restricted(viewer)
        if persisted is None:
            if query is None:
                return Resolved(None, None)
            digest = digest or document_hash(query)
            if restricted and not await self.trusted.has_text(digest):
                return _untrusted()
            return Resolved(query, digest)
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            return error_response(
                400, "Поддерживается только persistedQuery версии 1.", Code.BAD_USER_INPUT
            )
        claimed = persisted.get("sha256Hash")
        if not isinstance(claimed, str) or not _DOCUMENT_ID.match(claimed):
            return error_response(
                400, "persistedQuery.sha256Hash должен быть хешем SHA-256.", Code.BAD_USER_INPUT
            )
        if query is None:
            return await self._stored(claimed, restricted)
        digest = digest or document_hash(query)
        if digest != claimed.lower():
            return error_response(
                400,
                "Хеш persistedQuery.sha256Hash не совпадает с SHA-256 текста запроса "
                "(provided sha does not match query).",
                Code.PERSISTED_QUERY_HASH_MISMATCH,
            )
        if restricted:
            if not await self.trusted.has_text(digest):
                return _untrusted()
        elif len(query) <= self.max_length:
            await self.cache.store.put_document(digest, query)
        return Resolved(query, digest)

    async def _stored(self, claimed: str, restricted: bool) -> Resolved | Response:
        if not restricted:
            query = await self.cache.store.get_document(claimed.lower())
            if query is not None:
                return Resolved(query, claimed.lower())
        # Registered documents are persisted documents in either mode.
        found = await self.trusted.by_id(claimed)
        if found is None:
            return _not_found()
        sha256, body = found
        return Resolved(body, sha256)


def _untrusted() -> Response:
    return error_response(
        400,
        "Эта операция не зарегистрирована: публичный API выполняет только "
        "зарегистрированные документы (python -m cms register-documents).",
        Code.OPERATION_NOT_TRUSTED,
    )
