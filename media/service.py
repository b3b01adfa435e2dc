"""The media services of a process for one configuration: the storage backend and
the rendition maker (its locks and its limit on parallel work), with their start,
readiness check and close.

The S3 backend is imported only when configured: aiobotocore with botocore, aiohttp
and httpx is about 25 MiB in every process, for nothing on local disk."""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cms.settings import Settings
from media.faults import STALE_AFTER_SECONDS, check_at_start, root_problem
from media.renditions import RenditionMaker
from media.storage import LocalStorage, Storage, StorageUnavailableError

if TYPE_CHECKING:
    from media.s3 import S3Storage

logger = logging.getLogger("cms.media")


@dataclass(frozen=True)
class Media:
    settings: Settings
    storage: Storage
    renditions: RenditionMaker
    # The same object as `storage` when it is a bucket: what only a bucket does at
    # start, in the readiness check and at close.
    bucket: S3Storage | None = None


@functools.cache
def media_for(settings: Settings) -> Media:
    """One per settings object: the GraphQL resolvers and the HTTP routes share it
    (and so the S3 client and its connections)."""
    storage: Storage
    bucket: S3Storage | None = None
    if settings.media_storage == "s3":
        from media.s3 import S3Storage

        storage = bucket = S3Storage(settings)
    else:
        storage = LocalStorage(settings.media_root)
    renditions = RenditionMaker(
        storage, settings.rendition_concurrency, lock_prefix=f"{settings.redis_prefix}:media"
    )
    return Media(settings, storage, renditions, bucket)


def media_url(settings: Settings, key: str) -> str:
    """The public URL of a stored file (served by `web.media`)."""
    return f"{settings.public_url}/media/{key}"


async def start_media(media: Media) -> None:
    """At server start: the local root checked and stale staged files swept (uploads
    are received there on every backend); on S3, the multipart uploads that killed
    processes left are aborted. Problems are logged, /readyz reports them."""
    await asyncio.to_thread(check_at_start, media.settings.media_root)
    if media.bucket is not None:
        try:
            aborted = await media.bucket.abort_stale_uploads(STALE_AFTER_SECONDS)
        except StorageUnavailableError as error:
            logger.error("media storage unreachable at start: %s", error)
            return
        if aborted:
            logger.warning("aborted %d stale multipart upload(s) in the bucket", aborted)


async def media_problem(media: Media) -> str | None:
    """Why files cannot be stored now (the local root is not writable, the bucket
    does not answer), or None."""
    problem = await asyncio.to_thread(root_problem, media.settings.media_root)
    if problem is None and media.bucket is not None:
        problem = await media.bucket.problem()
    return problem


async def close_media(media: Media) -> None:
    if media.bucket is not None:
        await media.bucket.close()
