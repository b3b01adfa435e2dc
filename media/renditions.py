"""Resized copies of images, from a bounded set of sizes.

A request (width, height, fit, format) is first normalised to a `RenditionSpec`:
the width rounded up to an allowed one (CMS_RENDITION_WIDTHS), the shape snapped to
the nearest allowed aspect ratio (CMS_RENDITION_RATIOS) when both sides are given.
So an image has at most widths x (2 fits x ratios + 1) x formats renditions, and
no request for an arbitrary size can fill the disk or keep the CPU busy.

The spec is also the file name (`w640-16x9-cover.webp`), next to its source's hash
(`renditions/ab/<sha256>/...`): the GraphQL field only computes the URL and the
size (no image work in a resolver); the HTTP route makes the file on the first
GET, once, in a thread, and every later GET is a plain file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import aiofiles.os
from PIL import Image, ImageOps, features

from cms.observability import hooks
from cms.settings import Settings
from media.locks import KeyedLocks
from media.storage import Storage, temporary_path

if TYPE_CHECKING:
    from redis.asyncio import Redis


class Fit(StrEnum):
    COVER = "cover"  # fill the box exactly, cropping the overflow around the centre
    CONTAIN = "contain"  # fit inside the box, keeping the whole picture


@dataclass(frozen=True, slots=True)
class OutputFormat:
    name: str
    extension: str
    mime: str
    pillow_format: str


WEBP = OutputFormat("webp", "webp", "image/webp", "WEBP")
JPEG = OutputFormat("jpeg", "jpg", "image/jpeg", "JPEG")
PNG = OutputFormat("png", "png", "image/png", "PNG")
AVIF = OutputFormat("avif", "avif", "image/avif", "AVIF")
FORMATS: dict[str, OutputFormat] = {f.name: f for f in (WEBP, JPEG, PNG, AVIF)}
_BY_EXTENSION: dict[str, OutputFormat] = {f.extension: f for f in FORMATS.values()}

logger = logging.getLogger("cms.media")

# The cross-process lock of a rendition being made (Redis): how long it lives at most
# (longer than any rendering), and how long another process waits for it.
LOCK_SECONDS = 60
LOCK_WAIT_SECONDS = 30

# Sides larger than this are refused outright (a typo, not a wish for a big image).
MAX_REQUESTED_SIDE = 10_000


def avif_supported() -> bool:
    """Pillow encodes AVIF only when it was built with libavif (wheels since 11.3)."""
    return bool(features.check("avif"))


def supported(output: OutputFormat) -> bool:
    return output is not AVIF or avif_supported()


class RenditionArgumentError(ValueError):
    def __init__(self, argument: str, message: str) -> None:
        super().__init__(message)
        self.argument = argument
        self.message = message


@dataclass(frozen=True, slots=True)
class RenditionSpec:
    width: int  # one of the allowed widths
    ratio: tuple[int, int] | None  # width:height of the box; None: the source's shape
    fit: Fit
    format: OutputFormat

    @property
    def name(self) -> str:
        if self.ratio is None:
            return f"w{self.width}.{self.format.extension}"
        across, down = self.ratio
        return f"w{self.width}-{across}x{down}-{self.fit.value}.{self.format.extension}"


_NAME = re.compile(r"^w(\d{1,5})(?:-(\d{1,3})x(\d{1,3})-(cover|contain))?\.([a-z]{3,4})$")


def parse_name(name: str, settings: Settings) -> RenditionSpec | None:
    """The spec a file name stands for, when every part of it is allowed."""
    match = _NAME.match(name)
    if match is None:
        return None
    width, across, down, fit, extension = match.groups()
    output = _BY_EXTENSION.get(extension)
    if output is None or not supported(output) or int(width) not in settings.rendition_widths:
        return None
    if across is None:
        spec = RenditionSpec(int(width), None, Fit.COVER, output)
    else:
        ratio = (int(across), int(down))
        if ratio not in settings.rendition_ratios:
            return None
        spec = RenditionSpec(int(width), ratio, Fit(fit), output)
    return spec if spec.name == name else None  # one URL per file: no "w0320" aliases


def rendition_key(source_sha256: str, spec: RenditionSpec) -> str:
    return f"{renditions_prefix(source_sha256)}/{spec.name}"


def renditions_prefix(source_sha256: str) -> str:
    return f"renditions/{source_sha256[:2]}/{source_sha256}"


def normalize(
    *,
    width: int | None,
    height: int | None,
    fit: Fit,
    output: OutputFormat,
    source_size: tuple[int, int],
    settings: Settings,
) -> RenditionSpec:
    """The allowed spec closest to a request; RenditionArgumentError for nonsense."""
    for argument, value in (("width", width), ("height", height)):
        if value is not None and not 1 <= value <= MAX_REQUESTED_SIDE:
            raise RenditionArgumentError(
                argument, f"{argument} должен быть от 1 до {MAX_REQUESTED_SIDE} пикселей."
            )
    if not supported(output):
        raise RenditionArgumentError(
            "format", "Формат AVIF не поддерживается этим сервером; запросите WEBP."
        )
    source_width, source_height = source_size
    box = width is not None and height is not None
    if width is None:
        # Only a height (or nothing): the width that gives that height at the source's shape.
        wanted = source_width if height is None else height * source_width / source_height
        width = max(1, math.ceil(wanted))
    allowed = settings.rendition_widths
    rounded = next((w for w in allowed if w >= width), allowed[-1])
    if not box or height is None:
        return RenditionSpec(rounded, None, Fit.COVER, output)
    return RenditionSpec(rounded, _nearest_ratio(width, height, settings), fit, output)


def _nearest_ratio(width: int, height: int, settings: Settings) -> tuple[int, int]:
    wanted = math.log(width / height)
    return min(settings.rendition_ratios, key=lambda r: abs(math.log(r[0] / r[1]) - wanted))


def output_size(spec: RenditionSpec, source_size: tuple[int, int]) -> tuple[int, int]:
    """The pixel size of the rendition; never larger than the source (no upscaling)."""
    source_width, source_height = source_size
    if spec.ratio is None:
        width = min(spec.width, source_width)
        return width, max(1, round(width * source_height / source_width))
    across, down = spec.ratio
    box_width, box_height = spec.width, max(1, round(spec.width * down / across))
    if spec.fit is Fit.COVER:
        shrink = min(1.0, source_width / box_width, source_height / box_height)
        return max(1, math.floor(box_width * shrink)), max(1, math.floor(box_height * shrink))
    scale = min(1.0, box_width / source_width, box_height / source_height)
    return max(1, round(source_width * scale)), max(1, round(source_height * scale))


def render(source: Path, spec: RenditionSpec, size: tuple[int, int], target: Path) -> None:
    """Writes the rendition of `source` (an already checked, upright original) to
    `target`. Blocking: run it in a thread."""
    with Image.open(source) as image:
        if image.format == "JPEG":
            image.draft(None, size)  # decode at 1/2, 1/4 or 1/8 scale when that suffices
        image.seek(0)  # animations: the first frame
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        frame = image.convert("RGBA" if has_alpha else "RGB")
        icc_profile = image.info.get("icc_profile")
    if spec.fit is Fit.COVER and spec.ratio is not None:
        result = ImageOps.fit(frame, size, Image.Resampling.LANCZOS)
    else:
        result = frame.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if spec.format is JPEG and result.mode == "RGBA":
        flattened = Image.new("RGB", result.size, (255, 255, 255))
        flattened.paste(result, mask=result.getchannel("A"))
        result = flattened
    options: dict[str, object] = {"icc_profile": icc_profile}
    if spec.format is WEBP:
        options.update(quality=80, method=4)
    elif spec.format is JPEG:
        options.update(quality=82, optimize=True, progressive=True)
    elif spec.format is PNG:
        options.update(compress_level=6)
    elif spec.format is AVIF:
        options.update(quality=60, speed=8)
    result.save(target, spec.format.pillow_format, **options)


class RenditionMaker:
    """Makes renditions on demand: at most `concurrency` at a time (the rest wait),
    one maker per file even when many ask at once. Across processes (shared storage:
    S3, or one disk) the file is looked for first, and with Redis a short lock lets
    one process make it while the others wait and find it; without Redis (or when the
    lock cannot be had) the worst case is the same file made twice, each written
    atomically: never a torn file."""

    def __init__(
        self, storage: Storage, concurrency: int, *, lock_prefix: str = "cms:media"
    ) -> None:
        self.storage = storage
        self.lock_prefix = lock_prefix
        self._locks = KeyedLocks()
        self._slots = asyncio.Semaphore(concurrency)

    async def ensure(
        self,
        source_key: str,
        source_sha256: str,
        spec: RenditionSpec,
        source_size: tuple[int, int],
        redis: Redis | None = None,
    ) -> str:
        """The storage key of the rendition, made now if it does not exist yet."""
        key = rendition_key(source_sha256, spec)
        if await self.storage.exists(key):
            return key
        async with self._locks.hold(key), self._shared_lock(redis, key):
            if await self.storage.exists(key):  # made while we waited
                return key
            async with self._slots, self.storage.local_copy(source_key) as source:
                await aiofiles.os.makedirs(self.storage.staging_dir, exist_ok=True)
                target = temporary_path(self.storage.staging_dir, f".{spec.format.extension}")
                try:
                    size = output_size(spec, source_size)
                    started = time.perf_counter()
                    await asyncio.to_thread(render, source, spec, size, target)
                    hooks.rendition_made(time.perf_counter() - started)
                    await self.storage.put_file(key, target)
                finally:
                    with contextlib.suppress(FileNotFoundError):
                        await aiofiles.os.remove(target)
        return key

    @contextlib.asynccontextmanager
    async def _shared_lock(self, redis: Redis | None, key: str) -> AsyncIterator[None]:
        """Held by one process at a time for `key`, for at most LOCK_SECONDS (a killed
        holder does not block the others for longer); waiting ends after
        LOCK_WAIT_SECONDS, then this process makes the file itself."""
        if redis is None:
            yield
            return
        from redis.exceptions import LockError, RedisError

        lock = redis.lock(
            f"{self.lock_prefix}:making:{key}",
            timeout=LOCK_SECONDS,
            sleep=0.05,
            blocking_timeout=LOCK_WAIT_SECONDS,
        )
        try:
            held = await lock.acquire()
        except RedisError as error:
            logger.warning("rendition lock unavailable, making %s without it: %s", key, error)
            held = False
        try:
            yield
        finally:
            if held:
                with contextlib.suppress(RedisError, LockError):
                    await lock.release()
