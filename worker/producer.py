"""The producer API: how applications and pipelines hand files to the worker.

::

    from worker.producer import Producer

    async with Producer.connect(settings) as producer:
        job = await producer.submit_file(Path("contacts.csv"), tenant="tenant-1",
                                         idempotency_key="import-2026-11-22")

:meth:`Producer.submit_file` uploads the file under a unique key
(``uploads/<tenant>/<UTC timestamp>_<uuid>_<safe original name>``, in parts when large),
creates the job and sends its message. With an idempotency key, submitting the same thing
again gives the same job and uploads nothing. :meth:`Producer.presign_upload` hands a
browser a pre-signed PUT URL and the key to upload to; the job is then created by the
S3 event (:func:`worker.intake.job_for_s3_object`) or by :meth:`Producer.submit_key`.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from worker.errors import ActionRefused, JobInvalid
from worker.intake import Submitted, object_idempotency_key
from worker.messages import JobMessage, S3Object
from worker.options import check_job_options
from worker.store.jobs import create_or_get_job, job_by_idempotency_key

if TYPE_CHECKING:
    import asyncpg
    from types_aiobotocore_s3 import S3Client

    from worker.settings import Settings
    from worker.sqs import JobQueue

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SAFE_NAME_MAX_CHARS = 100
Progress = Callable[[int, int], None]


def safe_name(filename: str) -> str:
    """``Contactos Março (1).csv`` -> ``Contactos_Marco_1_.csv``: ASCII, no separators,
    bounded, never empty or hidden."""
    ascii_name = (
        unicodedata.normalize("NFKD", Path(filename).name).encode("ascii", "ignore").decode()
    )
    cleaned = _UNSAFE.sub("_", ascii_name).strip("._") or "upload"
    if len(cleaned) > _SAFE_NAME_MAX_CHARS:
        stem, dot, suffix = cleaned.rpartition(".")
        keep = _SAFE_NAME_MAX_CHARS - len(suffix) - 1
        cleaned = f"{stem[:keep]}.{suffix}" if dot and 0 < len(suffix) < 10 else cleaned[:100]
    return cleaned


def upload_key(prefix: str, tenant: str, filename: str, now: datetime | None = None) -> str:
    """A key no other upload can take: ``<prefix>/<tenant>/<timestamp>_<uuid>_<safe name>``."""
    if not tenant or "/" in tenant:
        raise ActionRefused(f"tenant {tenant!r} cannot be part of an object key")
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{prefix.rstrip('/')}/{tenant}/{stamp}_{uuid.uuid4().hex}_{safe_name(filename)}"


def check_options(options: dict[str, Any]) -> dict[str, Any]:
    """The options normalised, or ActionRefused naming the first bad one (unknown names,
    values the worker could not use)."""
    try:
        return check_job_options(options)
    except JobInvalid as error:
        raise ActionRefused(error.message) from None


class Producer:
    """Submits files as jobs: S3 for the bytes, PostgreSQL for the job, SQS for the message."""

    def __init__(
        self, settings: Settings, pool: asyncpg.Pool, s3: S3Client, queue: JobQueue
    ) -> None:
        self.settings, self.pool, self.s3, self.queue = settings, pool, s3, queue

    @classmethod
    @asynccontextmanager
    async def connect(cls, settings: Settings) -> AsyncIterator[Producer]:
        """A producer on its own connections, closed on the way out."""
        from worker.services import open_command_services  # noqa: PLC0415 - heavy, only here

        async with open_command_services(settings) as services:
            yield cls(settings, services.pool, services.s3, services.queue)

    async def submit_file(
        self,
        path: Path,
        *,
        tenant: str,
        options: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        progress: Progress | None = None,
    ) -> Submitted:
        """Upload ``path`` and create and enqueue its job (see the module's docstring)."""
        options = check_options(dict(options or {}))
        if idempotency_key is not None:
            existing = await self._existing(tenant, idempotency_key)
            if existing is not None:
                return existing
        key = upload_key(self.settings.upload_prefix, tenant, path.name)
        version_id, etag = await self._upload(path, key, progress)
        obj = S3Object(bucket=self.settings.s3_bucket, key=key, etag=etag, version_id=version_id)
        submitted = await self._create(
            obj,
            tenant=tenant,
            options=options,
            idempotency_key=idempotency_key,
            filename=path.name,
        )
        if not submitted.created:
            # Another submission with the same key won the race: ours is not needed.
            await self.s3.delete_object(Bucket=self.settings.s3_bucket, Key=key)
        return submitted

    async def submit_key(
        self,
        key: str,
        *,
        tenant: str,
        options: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Submitted:
        """Create and enqueue the job of an object already in the bucket (uploaded with a
        pre-signed URL); ActionRefused if it is not there."""
        options = check_options(dict(options or {}))
        try:
            head = await self.s3.head_object(Bucket=self.settings.s3_bucket, Key=key)
        except self.s3.exceptions.ClientError as error:
            raise ActionRefused(
                f"s3://{self.settings.s3_bucket}/{key} cannot be read: {error}"
            ) from None
        obj = S3Object(
            bucket=self.settings.s3_bucket,
            key=key,
            etag=head["ETag"].strip('"'),
            version_id=head.get("VersionId"),
        )
        return await self._create(
            obj,
            tenant=tenant,
            options=options,
            idempotency_key=idempotency_key or object_idempotency_key(obj),
        )

    async def presign_upload(self, *, tenant: str, filename: str) -> dict[str, Any]:
        """A pre-signed PUT URL and the key it uploads to."""
        key = upload_key(self.settings.upload_prefix, tenant, filename)
        url = await self.s3.generate_presigned_url(
            "put_object",
            Params={"Bucket": self.settings.s3_bucket, "Key": key},
            ExpiresIn=self.settings.upload_url_expiry_s,
        )
        return {
            "url": url,
            "method": "PUT",
            "bucket": self.settings.s3_bucket,
            "key": key,
            "expires_in_s": self.settings.upload_url_expiry_s,
        }

    async def _existing(self, tenant: str, idempotency_key: str) -> Submitted | None:
        existing = await job_by_idempotency_key(self.pool, tenant, idempotency_key)
        if existing is None:
            return None
        job_id, key = existing
        # The first submission may have died before sending: send again (harmless).
        await self.queue.send(JobMessage(job_id=job_id).body())
        return Submitted(job_id, key, False)

    async def _create(
        self,
        obj: S3Object,
        *,
        tenant: str,
        options: dict[str, Any],
        idempotency_key: str | None,
        filename: str | None = None,
    ) -> Submitted:
        job_id, created = await create_or_get_job(
            self.pool,
            tenant=tenant,
            bucket=obj.bucket,
            key=obj.key,
            version_id=obj.version_id,
            etag=obj.etag,
            original_filename=filename or obj.key.rsplit("/", 1)[-1],
            options=options,
            idempotency_key=idempotency_key,
        )
        await self.queue.send(JobMessage(job_id=job_id).body())
        return Submitted(job_id, obj.key, created)

    async def _upload(
        self, path: Path, key: str, progress: Progress | None
    ) -> tuple[str | None, str]:
        """Upload ``path`` (one PUT, or parts of ``upload_part_size_bytes``); returns the
        object's version id and ETag. A failed multipart upload is aborted."""
        size = (await asyncio.to_thread(path.stat)).st_size
        part_size = self.settings.upload_part_size_bytes
        bucket = self.settings.s3_bucket
        with path.open("rb") as file:
            if size <= part_size:
                body = await asyncio.to_thread(file.read)
                answer = await self.s3.put_object(
                    Bucket=bucket, Key=key, Body=body, ContentLength=size
                )
                if progress:
                    progress(size, size)
                return answer.get("VersionId"), answer["ETag"].strip('"')
            created = await self.s3.create_multipart_upload(Bucket=bucket, Key=key)
            upload_id = created["UploadId"]
            parts: list[dict[str, Any]] = []
            sent = 0
            async with AsyncExitStack() as cleanup:
                cleanup.push_async_callback(
                    self.s3.abort_multipart_upload, Bucket=bucket, Key=key, UploadId=upload_id
                )
                while chunk := await asyncio.to_thread(file.read, part_size):
                    number = len(parts) + 1
                    part = await self.s3.upload_part(
                        Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=chunk
                    )
                    parts.append({"PartNumber": number, "ETag": part["ETag"]})
                    sent += len(chunk)
                    if progress:
                        progress(sent, size)
                done = await self.s3.complete_multipart_upload(
                    Bucket=bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]
                )
                cleanup.pop_all()
            return done.get("VersionId"), done["ETag"].strip('"')
