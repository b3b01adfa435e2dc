"""Mutations of the media area: upload (GraphQL multipart request spec), edit texts,
delete. The checks live in `media.library`, shared with POST /media."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.file_uploads import Upload

from cms.errors import Code, ValidationFailedError
from cms.services.permissions import Action
from graphql_schema.context import Info
from graphql_schema.media.types import MediaAsset
from graphql_schema.payloads import DeletePayload, UserError, user_errors
from graphql_schema.permissions import require
from graphql_schema.relay import parse_typed_id
from media import library
from media.faults import StorageFaultError
from media.service import media_for
from media.staging import FileTooLargeError, staged_file
from media.storage import CHUNK_SIZE


@strawberry.input
class UploadMediaInput:
    file: Upload = strawberry.field(description="The file, as a multipart request part.")
    alt: str | None = strawberry.field(default=None, description="Required for images.")
    caption: str | None = None
    credit: str | None = None
    public: bool = strawberry.field(
        default=False, description="Show it to everyone at once (needs the right to publish)."
    )


@strawberry.input(description="Only the fields given change; null or an empty string clears.")
class UpdateMediaInput:
    alt: str | None = strawberry.UNSET
    caption: str | None = strawberry.UNSET
    credit: str | None = strawberry.UNSET
    public: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Show it to everyone even when nothing public uses it (needs the right "
        "to publish).",
    )
    expected_revision: int | None = strawberry.field(
        default=None, description="The revision you edited; a newer one gives CONFLICT."
    )


@strawberry.type
class MediaAssetPayload:
    asset: MediaAsset | None
    errors: list[UserError]


def _failed(error: ValidationFailedError) -> MediaAssetPayload:
    return MediaAssetPayload(asset=None, errors=user_errors(error))


@strawberry.type
class MediaMutations:
    @strawberry.mutation(description="Uploads a file (also POST /media, multipart).")
    async def upload_media(self, info: Info, input: UploadMediaInput) -> MediaAssetPayload:
        require(info.context.viewer, Action.UPLOAD_MEDIA, "Загрузка файла")
        media = media_for(info.context.settings)
        upload: Any = input.file
        if not hasattr(upload, "read"):
            return _failed(
                ValidationFailedError.one(
                    ("input", "file"),
                    Code.INVALID,
                    "Передайте файл частью multipart-запроса (GraphQL multipart request).",
                )
            )
        texts = {"alt": input.alt, "caption": input.caption, "credit": input.credit}
        try:
            library.check_may_set_public(info.context.viewer, input.public or None)
            async with staged_file(
                media.storage.staging_dir, media.settings.media_max_bytes
            ) as staged:
                try:
                    while chunk := await upload.read(CHUNK_SIZE):
                        await staged.write(chunk)
                except FileTooLargeError:
                    raise library.too_large_error(
                        ("input",), library.too_large_message(media.settings)
                    ) from None
                asset = await library.create_asset(
                    media, staged, file_name=upload.filename, texts=texts, public=input.public
                )
        except ValidationFailedError as error:
            return _failed(error)
        except StorageFaultError as fault:
            # The server's fault, not the input's: an error with the HTTP status of
            # POST /media (507 for a full disk, 503 for an unwritable root).
            if info.context.response is not None:
                info.context.response.status_code = fault.status
            raise GraphQLError(fault.message, extensions={"code": fault.code}) from None
        finally:
            await upload.close()
        return MediaAssetPayload(asset=MediaAsset.from_row(asset), errors=[])

    @strawberry.mutation(description="Changes alt, caption or credit; alt stays required.")
    async def update_media(
        self, info: Info, id: strawberry.ID, input: UpdateMediaInput
    ) -> MediaAssetPayload:
        require(info.context.viewer, Action.UPLOAD_MEDIA, "Изменение файла")
        asset_id = parse_typed_id(id, "MediaAsset")
        changes = {
            name: getattr(input, name)
            for name in library.TEXT_FIELDS
            if getattr(input, name) is not strawberry.UNSET
        }
        public = None if input.public is strawberry.UNSET else input.public
        try:
            library.check_may_set_public(info.context.viewer, public)
            asset = await library.update_asset(
                asset_id, changes, expected_revision=input.expected_revision, public=public
            )
        except ValidationFailedError as error:
            return _failed(error)
        return MediaAssetPayload(asset=MediaAsset.from_row(asset), errors=[])

    @strawberry.mutation(description="Deletes an unused file; CONFLICT while it is used.")
    async def delete_media(self, info: Info, id: strawberry.ID) -> DeletePayload:
        require(info.context.viewer, Action.UPLOAD_MEDIA, "Удаление файла")
        asset_id = parse_typed_id(id, "MediaAsset")
        try:
            await library.delete_asset(media_for(info.context.settings), asset_id)
        except ValidationFailedError as error:
            return DeletePayload(deleted_id=None, errors=user_errors(error))
        return DeletePayload(deleted_id=id, errors=[])
