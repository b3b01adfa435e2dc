"""The original name of an uploaded file, kept as metadata only (never as a path)."""

from __future__ import annotations

import re
import unicodedata

MAX_FILE_NAME = 200
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff<>:\"|?*]")


def file_name_has_path(raw: str | None) -> bool:
    """Browsers and curl send a bare name; one with directories (or a NUL that could cut
    it short) is an attempt to write elsewhere, and is refused rather than trimmed."""
    return raw is not None and any(mark in raw for mark in ("/", "\\", "\x00"))


def clean_file_name(raw: str | None, extension: str) -> str:
    """The last path part of `raw` without control, invisible or reserved characters,
    at most MAX_FILE_NAME characters, ending in the extension of the detected type."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = " ".join(_UNSAFE.sub("", name).split()).strip(". ")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = stem.strip(". ") or "file"
    suffix = f".{extension}"
    return stem[: MAX_FILE_NAME - len(suffix)].rstrip(". ") + suffix
