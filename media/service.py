"""The media services of a process for one configuration: the storage backend and
the rendition maker (its locks and its limit on parallel work)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from cms.settings import Settings
from media.renditions import RenditionMaker
from media.storage import LocalStorage, Storage


@dataclass(frozen=True)
class Media:
    settings: Settings
    storage: Storage
    renditions: RenditionMaker


@functools.cache
def media_for(settings: Settings) -> Media:
    """One per settings object: the GraphQL resolvers and the HTTP routes share it.
    S3-compatible storage would be chosen here, from the settings."""
    storage = LocalStorage(settings.media_root)
    return Media(settings, storage, RenditionMaker(storage, settings.rendition_concurrency))


def media_url(settings: Settings, key: str) -> str:
    """The public URL of a stored file (served by `web.media`)."""
    return f"{settings.public_url}/media/{key}"
