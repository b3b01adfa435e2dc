"""The CDN purge hook: the surrogate keys a content change touches, POSTed to
`CMS_CDN_PURGE_URL` as `{"keys": ["News:12", "news-list", "any-content"]}` (with
`Authorization: Bearer CMS_CDN_PURGE_TOKEN` when set) by the process that made the
change. The same keys void the response cache (web/response_cache.py), and public
answers carry them as `Surrogate-Key` / `Cache-Tag`, so a CDN that purges by tag
drops exactly what the change may alter. A small adapter (or the CDN's own purge API
when it accepts such a body) receives it.

Fire and forget: the change is committed and announced whatever the CDN answers; a
failure (no answer within the timeout, a status other than 2xx) is logged, and the
CDN's copies then last their `max-age` + `stale-while-revalidate` at most.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.error
import urllib.request
from collections.abc import Iterable

import orjson

from cms.settings import Settings

logger = logging.getLogger("cms.cdn")

_TIMEOUT = 5.0


class CdnPurge:
    def __init__(self, url: str, token: str | None) -> None:
        self.url = url
        self.token = token
        # Purges in flight: held so that they are not collected before they finish.
        self._pending: set[asyncio.Task[None]] = set()

    @classmethod
    def create(cls, settings: Settings) -> CdnPurge | None:
        if not settings.cdn_purge_url:
            return None
        return cls(settings.cdn_purge_url, settings.cdn_purge_token)

    def purge(self, keys: Iterable[str]) -> None:
        """Starts the purge of `keys` and returns at once."""
        task = asyncio.get_running_loop().create_task(self._send(sorted(keys)))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def wait(self) -> None:
        """Until the purges started so far have finished (tests, shutdown)."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def _send(self, keys: list[str]) -> None:
        try:
            status = await asyncio.to_thread(self._post, orjson.dumps({"keys": keys}))
        except Exception as error:  # any failure: the change itself stands
            logger.warning("CDN purge of %d keys failed: %s", len(keys), error)
            return
        if not 200 <= status < 300:
            logger.warning("CDN purge of %d keys failed: HTTP %d", len(keys), status)

    def _post(self, body: bytes) -> int:
        headers = {"content-type": "application/json"}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
                status: int = response.status
                return status
        except urllib.error.HTTPError as error:
            return error.code
