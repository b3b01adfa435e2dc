"""Uploaded images made safe to publish: decoded with a pixel limit (against
decompression bombs), turned upright by their EXIF orientation, and re-encoded
without EXIF, XMP or comments (camera GPS positions, serial numbers, editing
history); the ICC colour profile and transparency are kept.

The functions here are blocking (Pillow): callers run them in a thread.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import blurhash
from PIL import Image, ImageOps, JpegImagePlugin, UnidentifiedImageError

from media.faults import is_storage_fault
from media.filetypes import FileType, RejectedFileError

logger = logging.getLogger("cms.media")
# What survives re-encoding; everything else in `info` (exif, xmp, comment,
# dpi and vendor chunks) is dropped.
_KEPT_INFO = ("icc_profile", "transparency", "duration", "loop", "background")
# A small image is enough for a blurred placeholder; 4x3 components keep it ~30 chars.
_PLACEHOLDER_SIZE = 32


@dataclass(frozen=True, slots=True)
class PreparedImage:
    width: int
    height: int
    placeholder: str | None


def prepare_image(source: Path, kind: FileType, target: Path, max_pixels: int) -> PreparedImage:
    """Checks the pixels of `source` and writes the publishable version to `target`."""
    assert kind.pillow_format is not None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source, formats=[kind.pillow_format]) as image:
                _check_pixels(image, kind, max_pixels)
                return _reencode(image, kind, target)
    except RejectedFileError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _bomb(max_pixels) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        if isinstance(error, OSError) and is_storage_fault(error):
            raise  # writing the copy failed (a full disk): not the file's fault
        raise _unreadable(kind) from error
    except Exception as error:
        # Decoders of hostile input fail in many ways (struct.error, TypeError in odd
        # EXIF...): the file is refused, the surprise is logged for a closer look.
        logger.warning("unexpected failure reading an uploaded %s", kind.label, exc_info=True)
        raise _unreadable(kind) from error


def _unreadable(kind: FileType) -> RejectedFileError:
    return RejectedFileError(
        f"Изображение {kind.label} повреждено или обрезано: его не удаётся прочитать."
    )


def _bomb(max_pixels: int) -> RejectedFileError:
    return RejectedFileError(
        f"Изображение слишком большое в пикселях (допустимо до {max_pixels / 1e6:g} Мпикс "
        "на все кадры): уменьшите его перед загрузкой."
    )


def _check_pixels(image: Image.Image, kind: FileType, max_pixels: int) -> None:
    """Before any pixel is decoded: the declared size, all frames together."""
    if image.format != kind.pillow_format:
        raise RejectedFileError(f"Файл не является изображением {kind.label}.")
    width, height = image.size
    if width < 1 or height < 1:
        raise RejectedFileError(f"Изображение {kind.label} без пикселей.")
    if width * height * getattr(image, "n_frames", 1) > max_pixels:
        raise _bomb(max_pixels)


def _reencode(image: Image.Image, kind: FileType, target: Path) -> PreparedImage:
    kept: dict[str | tuple[int, int], Any] = {
        key: image.info[key] for key in _KEPT_INFO if key in image.info
    }
    options: dict[str, Any] = {"icc_profile": kept.get("icc_profile")}
    if getattr(image, "n_frames", 1) > 1:
        # Animations are kept as they are, frame by frame; they carry no orientation.
        image.info = dict(kept)
        options.update(_format_options(image, kind))
        image.save(target, kind.pillow_format, save_all=True, **options)
        image.seek(0)
        first = image.copy()
    else:
        image.load()  # decodes every pixel: a truncated file fails here
        upright = ImageOps.exif_transpose(image)
        upright.info = dict(kept)
        options.update(_format_options(image, kind))
        upright.save(target, kind.pillow_format, **options)
        first = upright
    return PreparedImage(first.width, first.height, placeholder(first))


def _format_options(source: Image.Image, kind: FileType) -> dict[str, Any]:
    if kind.pillow_format == "JPEG":
        options: dict[str, Any] = {"optimize": True}
        if isinstance(source, JpegImagePlugin.JpegImageFile) and source.quantization:
            # The original quantisation tables: re-encoding loses almost nothing more.
            options["qtables"] = source.quantization
            sampling = JpegImagePlugin.get_sampling(source)
            if sampling != -1:
                options["subsampling"] = sampling
        else:
            options["quality"] = 90
        return options
    if kind.pillow_format == "PNG":
        return {"compress_level": 6}
    if kind.pillow_format == "WEBP":
        return {"quality": 90, "method": 4}
    if kind.pillow_format == "AVIF":
        return {"quality": 80, "speed": 6}
    return {}


def placeholder(image: Image.Image) -> str | None:
    """A BlurHash of the picture: ~30 characters a page can paint as a blurred preview
    (and whose average colour is a plain CSS background) before the image arrives."""
    small = image.convert("RGB")
    small.thumbnail((_PLACEHOLDER_SIZE, _PLACEHOLDER_SIZE))
    raw = small.tobytes()
    stride = small.width * 3
    rows = [
        [tuple(raw[x : x + 3]) for x in range(y * stride, (y + 1) * stride, 3)]
        for y in range(small.height)
    ]
    across, down = (4, 3) if small.width >= small.height else (3, 4)
    return blurhash.encode(rows, components_x=across, components_y=down)


_BASE83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"


def average_colour(blur: str) -> str | None:
    """The average colour a BlurHash carries (its first component), as `#rrggbb`."""
    if len(blur) < 6:
        return None
    value = 0
    for char in blur[2:6]:
        digit = _BASE83.find(char)
        if digit < 0:
            return None
        value = value * 83 + digit
    return f"#{value & 0xFFFFFF:06x}"
