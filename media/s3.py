"""Media bytes in an S3-compatible bucket (AWS, a Russian cloud's object storage, a
region's own SeaweedFS or MinIO), through aiobotocore.

Keys are the same as on local disk, under an optional CMS_S3_PREFIX. Writes are
atomic as S3 makes them: an object appears whole when its PUT (or the completion of
its multipart upload) succeeds, never in part. Larger files go up in parts of
CMS_S3_PART_SIZE, so that at most one part is in memory; a failed upload is aborted,
and what a killed process left (an incomplete multipart upload, invisible to readers)
is aborted at the next start (`abort_stale_uploads`).

Files being received and renditions being made still pass through a local staging
folder (CMS_MEDIA_ROOT/.staging): hashing, type checks and Pillow need a file.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiofiles
import aiofiles.os
import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from cms.settings import Settings
from media.storage import CHUNK_SIZE, StorageUnavailableError, check_key, temporary_path

logger = logging.getLogger("cms.media")

# S3's DeleteObjects takes at most this many keys.
_DELETE_BATCH = 1000


def _missing(error: ClientError) -> bool:
    code = str(error.response.get("Error", {}).get("Code", ""))
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status == 404 or code in ("404", "NoSuchKey", "NotFound")


@contextlib.contextmanager
def _faults(what: str) -> Iterator[None]:
    """The storage's failures (unreachable, refused, timed out) as
    StorageUnavailableError, an OSError that media.faults answers with 503."""
    try:
        yield
    except ClientError as error:
        raise StorageUnavailableError(f"S3 {what}: {error}") from error
    except (BotoCoreError, aiohttp.ClientError, TimeoutError) as error:
        raise StorageUnavailableError(f"S3 {what}: {error}") from error


class S3Storage:
    """The `Storage` interface over one bucket. One client (with its connection pool)
    per process, opened on first use and closed by `close()`."""

    def __init__(self, settings: Settings) -> None:
        assert settings.s3_bucket is not None
        self.settings = settings
        self.bucket = settings.s3_bucket
        self.prefix = settings.s3_prefix
        self.part_size = settings.s3_part_size
        self.staging_dir = settings.media_root / ".staging"
        self._client: Any = None
        self._exit: contextlib.AsyncExitStack | None = None

    # ------------------------------------------------------------ the client

    async def _s3(self) -> Any:
        if self._client is None:
            settings = self.settings
            config = AioConfig(
                # Path-style URLs (endpoint/bucket/key): every S3-compatible server
                # takes them, virtual hosts need DNS per bucket.
                s3={"addressing_style": "path"},
                # Signature V4 everywhere, presigned URLs included (V2 is long retired).
                signature_version="s3v4",
                connect_timeout=5,
                read_timeout=60,
                retries={"max_attempts": 3, "mode": "standard"},
                max_pool_connections=50,
                # Checksums only where S3 requires them: servers other than AWS do not
                # all know the newer flexible-checksum trailers.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            )
            stack = contextlib.AsyncExitStack()
            client = await stack.enter_async_context(
                get_session().create_client(
                    "s3",
                    endpoint_url=settings.s3_endpoint,
                    region_name=settings.s3_region,
                    aws_access_key_id=settings.s3_access_key,
                    aws_secret_access_key=settings.s3_secret_key,
                    config=config,
                )
            )
            if self._client is None:
                self._client, self._exit = client, stack
            else:  # another task opened one meanwhile
                await stack.aclose()
        return self._client

    async def close(self) -> None:
        exit_stack, self._exit, self._client = self._exit, None, None
        if exit_stack is not None:
            await exit_stack.aclose()

    def _name(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    # ------------------------------------------------------------ the interface

    async def save(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        name = self._name(key)
        client = await self._s3()
        buffer = bytearray()
        size = 0
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        try:
            async for chunk in chunks:
                size += len(chunk)
                buffer += chunk
                while len(buffer) >= self.part_size:
                    if upload_id is None:
                        with _faults("create multipart upload"):
                            created = await client.create_multipart_upload(
                                Bucket=self.bucket, Key=name
                            )
                        upload_id = created["UploadId"]
                    part = bytes(buffer[: self.part_size])
                    del buffer[: self.part_size]
                    parts.append(await self._upload_part(client, name, upload_id, len(parts), part))
            if upload_id is None:
                with _faults("put object"):
                    await client.put_object(Bucket=self.bucket, Key=name, Body=bytes(buffer))
                return size
            if buffer:
                part = bytes(buffer)
                parts.append(await self._upload_part(client, name, upload_id, len(parts), part))
            with _faults("complete multipart upload"):
                await client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=name,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
            upload_id = None
        finally:
            if upload_id is not None:
                # Failed or cancelled half-way: the parts are dropped, no object appears.
                with contextlib.suppress(Exception):
                    await client.abort_multipart_upload(
                        Bucket=self.bucket, Key=name, UploadId=upload_id
                    )
        return size

    async def _upload_part(
        self, client: Any, name: str, upload_id: str, done: int, body: bytes
    ) -> dict[str, Any]:
        with _faults("upload part"):
            answer = await client.upload_part(
                Bucket=self.bucket,
                Key=name,
                UploadId=upload_id,
                PartNumber=done + 1,
                Body=body,
            )
        return {"PartNumber": done + 1, "ETag": answer["ETag"]}

    async def put_file(self, key: str, path: Path) -> None:
        await self.save(key, _file_chunks(path))
        with contextlib.suppress(FileNotFoundError):
            await aiofiles.os.remove(path)

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        if end is not None and end <= start:
            return
        client = await self._s3()
        arguments: dict[str, Any] = {"Bucket": self.bucket, "Key": self._name(key)}
        if start or end is not None:
            arguments["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        try:
            with _faults("get object"):
                answer = await client.get_object(**arguments)
        except StorageUnavailableError as error:
            cause = error.__cause__
            if isinstance(cause, ClientError) and _missing(cause):
                raise FileNotFoundError(key) from None
            raise
        # Leaving the loop early (a client that went away) closes the body and gives
        # the connection back to the pool.
        async with answer["Body"] as body:
            with _faults("read object"):
                async for chunk in body.iter_chunks(CHUNK_SIZE):
                    yield chunk

    @contextlib.asynccontextmanager
    async def local_copy(self, key: str) -> AsyncIterator[Path]:
        await aiofiles.os.makedirs(self.staging_dir, exist_ok=True)
        path = temporary_path(self.staging_dir, ".download")
        try:
            async with aiofiles.open(path, "wb") as file:
                async for chunk in self.read(key):
                    await file.write(chunk)
            yield path
        finally:
            with contextlib.suppress(FileNotFoundError):
                await aiofiles.os.remove(path)

    async def exists(self, key: str) -> bool:
        return await self.size(key) is not None

    async def size(self, key: str) -> int | None:
        client = await self._s3()
        try:
            with _faults("head object"):
                answer = await client.head_object(Bucket=self.bucket, Key=self._name(key))
        except StorageUnavailableError as error:
            cause = error.__cause__
            if isinstance(cause, ClientError) and _missing(cause):
                return None
            raise
        return int(answer["ContentLength"])

    async def delete(self, key: str) -> bool:
        # S3 answers a DELETE of a missing key as a success: asked first.
        if not await self.exists(key):
            return False
        client = await self._s3()
        with _faults("delete object"):
            await client.delete_object(Bucket=self.bucket, Key=self._name(key))
        return True

    async def delete_prefix(self, prefix: str) -> None:
        client = await self._s3()
        folder = self._name(prefix) + "/"
        names: list[str] = []
        with _faults("list objects"):
            pages = client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=folder
            )
            async for page in pages:
                names.extend(item["Key"] for item in page.get("Contents", []))
        for first in range(0, len(names), _DELETE_BATCH):
            batch = [{"Key": name} for name in names[first : first + _DELETE_BATCH]]
            with _faults("delete objects"):
                await client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )

    async def direct_url(self, key: str, content_type: str, disposition: str) -> str | None:
        """A presigned GET URL (CMS_S3_PRESIGN=on) answering with these headers."""
        if not self.settings.s3_presign:
            return None
        client = await self._s3()
        with _faults("presign"):
            url: str = await client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": self._name(key),
                    "ResponseContentType": content_type,
                    "ResponseContentDisposition": disposition,
                },
                ExpiresIn=self.settings.s3_presign_seconds,
            )
        return url

    # ------------------------------------------------------------ operations

    async def problem(self) -> str | None:
        """Why the bucket cannot be used now (unreachable, refused), or None."""
        try:
            client = await self._s3()
            with _faults("head bucket"):
                await client.head_bucket(Bucket=self.bucket)
        except StorageUnavailableError as error:
            return str(error)
        return None

    async def abort_stale_uploads(self, older_than: float) -> int:
        """Aborts multipart uploads under the prefix begun more than `older_than`
        seconds ago (by a process that was killed mid-upload); how many. Younger ones
        may be another live process's."""
        client = await self._s3()
        limit = time.time() - older_than
        stale: list[tuple[str, str]] = []
        with _faults("list multipart uploads"):
            pages = client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else ""
            )
            async for page in pages:
                for upload in page.get("Uploads", []):
                    initiated = upload.get("Initiated")
                    if initiated is None or initiated.timestamp() <= limit:
                        stale.append((upload["Key"], upload["UploadId"]))
        for name, upload_id in stale:
            with _faults("abort multipart upload"):
                await client.abort_multipart_upload(
                    Bucket=self.bucket, Key=name, UploadId=upload_id
                )
        return len(stale)


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    async with aiofiles.open(path, "rb") as file:
        while chunk := await file.read(CHUNK_SIZE):
            yield chunk
