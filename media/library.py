"""The media library: turning a received file into a stored asset, editing its
texts, deleting it when nothing uses it. Both upload routes (GraphQL and
POST /media) call these, so that both check the same things.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import aiofiles.os
from tortoise.transactions import in_transaction

from cms.errors import Code, FieldError, ValidationFailedError
from cms.models import AgreementDocument, Enterprise, MediaAsset, News, Person
from cms.services.events import ContentChange, content_changed
from cms.services.permissions import Action, allowed
from cms.services.validation import Checker
from cms.services.viewer import Viewer
from cms.services.visibility import now
from cms.services.webhooks.events import record_media
from cms.settings import Settings
from media.filetypes import FileType, RejectedFileError, identify
from media.images import prepare_image
from media.locks import KeyedLocks
from media.names import clean_file_name, file_name_has_path
from media.renditions import renditions_prefix
from media.service import Media
from media.staging import StagedFile
from media.storage import StorageUnavailableError, temporary_path

logger = logging.getLogger("cms.media")

ALT_MAX = 1000
CAPTION_MAX = 2000
CREDIT_MAX = 300
TEXT_FIELDS = ("alt", "caption", "credit")

# Storing a file and removing it (its last asset deleted) never interleave for one
# content hash within a process.
_content_locks = KeyedLocks()


def original_key(sha256: str, kind: FileType) -> str:
    """Content-addressed: the same bytes always get the same key, stored once."""
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}.{kind.extension}"


def alt_required_message() -> str:
    return (
        "Для изображения нужен альтернативный текст (alt): его читает режим для "
        "слабовидящих вместо картинки."
    )


def _file_digest(path: Path) -> tuple[str, int]:
    with path.open("rb") as file:
        digest = hashlib.file_digest(file, "sha256").hexdigest()
        return digest, file.tell()


@dataclass(frozen=True, slots=True)
class _Texts:
    alt: str | None
    caption: str | None
    credit: str | None


def _clean_texts(
    check: Checker, values: Mapping[str, str | None], field: tuple[str, ...]
) -> _Texts:
    return _Texts(
        alt=check.text(values.get("alt"), (*field, "alt"), max_length=ALT_MAX, label="alt"),
        caption=check.text(
            values.get("caption"),
            (*field, "caption"),
            max_length=CAPTION_MAX,
            multiline=True,
            label="подпись",
        ),
        credit=check.text(
            values.get("credit"), (*field, "credit"), max_length=CREDIT_MAX, label="автор"
        ),
    )


async def create_asset(
    media: Media,
    staged: StagedFile,
    *,
    file_name: str | None,
    texts: Mapping[str, str | None],
    field: tuple[str, ...] = ("input",),
    public: bool = False,
) -> MediaAsset:
    """Checks a received file and its texts, stores it, and records the asset.
    ValidationFailedError (paths under `field`) when anything is wrong: then nothing
    is stored. The staged file stays the caller's to remove."""
    await staged.close()
    kind, clean = await _checked(staged, file_name, texts, field)
    async with _publishable(media, staged, kind, field) as ready:
        key = original_key(ready.sha256, kind)
        # The transaction before the lock: a mutation holds its transaction (with the
        # audit entry) around this, and one order everywhere cannot deadlock on SQLite.
        async with in_transaction(), _content_locks.hold(ready.sha256):
            asset = await MediaAsset.create(
                storage_key=key,
                sha256=ready.sha256,
                file_name=clean_file_name(file_name, kind.extension),
                mime_type=kind.mime,
                size=ready.size,
                width=ready.width,
                height=ready.height,
                alt=clean.alt,
                caption=clean.caption,
                credit=clean.credit,
                placeholder=ready.placeholder,
                public=public,
            )
            await record_media(asset, "created", [])
            # Inside the transaction: if the file cannot be stored, no row is left.
            if not await media.storage.exists(key):
                await media.storage.put_file(key, ready.path)
    # Published content shows media (covers, photos, logos): caches must hear of it.
    await content_changed(ContentChange("MediaAsset", (asset.pk,), "created"))
    return asset


async def _checked(
    staged: StagedFile,
    file_name: str | None,
    texts: Mapping[str, str | None],
    field: tuple[str, ...],
) -> tuple[FileType, _Texts]:
    """The file's type and the cleaned texts; every problem reported at once."""
    check = Checker()
    clean = _clean_texts(check, texts, field)
    if file_name_has_path(file_name):
        check.fail(
            (*field, "file"),
            Code.INVALID,
            "Имя файла не должно содержать путь (/, \\ или ..): передайте только имя.",
        )
    kind: FileType | None = None
    try:
        kind = await asyncio.to_thread(identify, staged.path)
    except RejectedFileError as error:
        check.errors.append(_file_error(field, error))
    if kind is not None and kind.is_image and clean.alt is None:
        check.fail((*field, "alt"), Code.REQUIRED, alt_required_message())
    check.raise_if_any()
    assert kind is not None
    return kind, clean


@dataclass(frozen=True, slots=True)
class _Ready:
    path: Path  # the bytes to store
    sha256: str
    size: int
    width: int | None = None
    height: int | None = None
    placeholder: str | None = None


@contextlib.asynccontextmanager
async def _publishable(
    media: Media, staged: StagedFile, kind: FileType, field: tuple[str, ...]
) -> AsyncIterator[_Ready]:
    """The version of the file to publish: documents as received, images re-encoded
    (upright, without metadata) into a temporary file removed afterwards."""
    if not kind.is_image:
        yield _Ready(staged.path, staged.sha256, staged.size)
        return
    staging_dir = media.storage.staging_dir
    await aiofiles.os.makedirs(staging_dir, exist_ok=True)
    target = temporary_path(staging_dir, f".{kind.extension}")
    try:
        try:
            prepared = await asyncio.to_thread(
                prepare_image, staged.path, kind, target, media.settings.media_max_pixels
            )
        except RejectedFileError as error:
            raise ValidationFailedError([_file_error(field, error)]) from None
        sha256, size = await asyncio.to_thread(_file_digest, target)
        yield _Ready(target, sha256, size, prepared.width, prepared.height, prepared.placeholder)
    finally:
        with contextlib.suppress(FileNotFoundError):
            await aiofiles.os.remove(target)


def _file_error(field: tuple[str, ...], error: RejectedFileError) -> FieldError:
    # A type not on the allowlist; a broken file of an allowed type is INVALID.
    code = Code.UNSUPPORTED_TYPE if error.unsupported else Code.INVALID
    return FieldError((*field, "file"), code, error.message)


def too_large_message(settings: Settings) -> str:
    megabytes = settings.media_max_bytes / (1024 * 1024)
    return f"Файл больше допустимого размера ({megabytes:g} МБ)."


def too_large_error(field: tuple[str, ...], message: str) -> ValidationFailedError:
    return ValidationFailedError.one((*field, "file"), Code.TOO_LARGE, message)


def check_may_set_public(
    viewer: Viewer, public: bool | None, field: tuple[str, ...] = ("input",)
) -> None:
    """Marking an asset public (or no longer) publishes it: only roles that may
    publish do. `public` None: not being changed."""
    if public is not None and not allowed(viewer, Action.PUBLISH):
        raise ValidationFailedError.one(
            (*field, "public"),
            Code.FORBIDDEN,
            "Делать файл общедоступным (или снимать отметку) может только тот, кто вправе "
            "публиковать.",
        )


async def update_asset(
    asset_id: int,
    changes: Mapping[str, str | None],
    *,
    expected_revision: int | None = None,
    field: tuple[str, ...] = ("input",),
    public: bool | None = None,
) -> MediaAsset:
    """Sets the texts present in `changes` (None or "" clears one) and `public` unless
    None; alt stays required for images."""
    asset = await MediaAsset.get_or_none(id=asset_id)
    if asset is None:
        raise ValidationFailedError.one(("id",), Code.NOT_FOUND, "Такого файла нет.")
    check = Checker()
    clean = _clean_texts(check, changes, field)
    if expected_revision is not None and expected_revision != asset.revision:
        check.fail(
            (*field, "expectedRevision"),
            Code.CONFLICT,
            f"Файл уже изменили (версия {asset.revision}, а не {expected_revision}): "
            "обновите страницу и повторите.",
        )
    alt = clean.alt if "alt" in changes else asset.alt
    if asset.width is not None and alt is None:
        check.fail((*field, "alt"), Code.REQUIRED, alt_required_message())
    check.raise_if_any()
    values: dict[str, object] = {
        name: getattr(clean, name) for name in TEXT_FIELDS if name in changes
    }
    if public is not None:
        values["public"] = public
    if not values:
        return asset
    # The revision grows in the statement itself: two concurrent edits both count.
    async with in_transaction():
        done = await MediaAsset.filter(id=asset.pk, revision=asset.revision).update(
            **values,
            revision=asset.revision + 1,
            updated_at=now(),
        )
        if not done:
            raise ValidationFailedError.one(
                (*field, "expectedRevision"),
                Code.CONFLICT,
                "Файл изменили одновременно с вами: обновите страницу и повторите.",
            )
        asset.revision += 1
        await record_media(asset, "updated", sorted(values))
    await content_changed(ContentChange("MediaAsset", (asset.pk,), "updated"))
    return await MediaAsset.get(id=asset.pk)


async def usages(asset_id: int) -> list[str]:
    """Where an asset is used, for people: "обложка новости «...»", ... (items in the
    trash too: they still hold the reference and can be restored)."""
    found: list[str] = []
    for title, deleted in await News.filter(cover_id=asset_id).values_list("title", "deleted_at"):
        found.append(f"обложка новости «{title}»{_in_trash(deleted)}")
    for name, deleted in await Person.filter(photo_id=asset_id).values_list(
        "full_name", "deleted_at"
    ):
        found.append(f"фото персоны «{name}»{_in_trash(deleted)}")
    for title, deleted in await AgreementDocument.filter(asset_id=asset_id).values_list(
        "agreement__title", "agreement__deleted_at"
    ):
        found.append(f"документ соглашения «{title}»{_in_trash(deleted)}")
    for name, deleted in await Enterprise.filter(logo_id=asset_id).values_list(
        "name", "deleted_at"
    ):
        found.append(f"логотип предприятия «{name}»{_in_trash(deleted)}")
    return found


def _in_trash(deleted_at: object) -> str:
    return " (в корзине)" if deleted_at is not None else ""


async def delete_asset(media: Media, asset_id: int) -> None:
    """Deletes an unused asset, and its file and renditions unless another asset has
    the same content. CONFLICT, naming the places, while anything uses it."""
    asset = await MediaAsset.get_or_none(id=asset_id)
    if asset is None:
        raise ValidationFailedError.one(("id",), Code.NOT_FOUND, "Такого файла нет.")
    used_in = await usages(asset_id)
    if used_in:
        raise ValidationFailedError.one(
            ("id",), Code.CONFLICT, "Файл используется: " + "; ".join(used_in) + "."
        )
    async with _content_locks.hold(asset.sha256):
        async with in_transaction():
            await asset.delete()
            await record_media(asset, "deleted", [])
        await content_changed(ContentChange("MediaAsset", (asset_id,), "deleted"))
        if await MediaAsset.filter(sha256=asset.sha256).exists():
            return
        try:
            await media.storage.delete(asset.storage_key)
            await media.storage.delete_prefix(renditions_prefix(asset.sha256))
        except StorageUnavailableError as error:
            # The asset is gone (nothing serves its bytes any more); what is left in
            # the bucket is garbage to sweep, not a reason to fail the deletion.
            logger.error("objects of %s left in the storage: %s", asset.storage_key, error)
