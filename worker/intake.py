"""Intake: the job of an object S3 announced or discovery found, made once per object
version and enqueued. Shared by the daemon (S3 events), discovery and the producer API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from worker.messages import JobMessage, S3Object
from worker.store.jobs import create_or_get_job

if TYPE_CHECKING:
    import asyncpg

    from worker.sqs import JobQueue


@dataclass(frozen=True)
class Submitted:
    """What a submission gave: the job, the object's key, whether the job is new."""

    job_id: uuid.UUID
    key: str
    created: bool


def object_idempotency_key(obj: S3Object) -> str:
    """One job per object version: ``s3:<bucket>/<key>@<version id or ETag>``."""
    return f"s3:{obj.bucket}/{obj.key}@{obj.version_id or obj.etag or ''}"


async def job_for_s3_object(
    pool: asyncpg.Pool,
    queue: JobQueue,
    obj: S3Object,
    tenant: str,
    options: dict[str, Any],
) -> Submitted:
    """Create (once per object version) and enqueue the job of an object S3 announced or
    discovery found. Sending again for a job that exists is harmless: the job's state
    decides what a message does."""
    job_id, created = await create_or_get_job(
        pool,
        tenant=tenant,
        bucket=obj.bucket,
        key=obj.key,
        version_id=obj.version_id,
        etag=obj.etag,
        original_filename=obj.key.rsplit("/", 1)[-1],
        options=options,
        idempotency_key=object_idempotency_key(obj),
    )
    await queue.send(JobMessage(job_id=job_id).body())
    return Submitted(job_id, obj.key, created)
