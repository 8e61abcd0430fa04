"""Opening the services the worker needs, with a start-up check of each.

Every check that fails raises :class:`~worker.errors.StartupCheckError` naming the setting
to fix, so a misconfigured worker stops at once with one clear line rather than failing on
its first message.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import asyncpg
from botocore.exceptions import ClientError

from worker.aws import open_clients
from worker.errors import StartupCheckError
from worker.settings import Settings, redact_url
from worker.sqs import JobQueue
from worker.store.migrate import load_migrations, schema_version
from worker.store.pool import close_pool, create_pool

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_sqs import SQSClient


@dataclass
class Services:
    """The open connections: database pool, S3 and SQS clients, the job queue."""

    settings: Settings
    pool: asyncpg.Pool
    s3: S3Client
    sqs: SQSClient
    queue: JobQueue


async def check_schema(pool: asyncpg.Pool, settings: Settings) -> int:
    """The schema version; StartupCheckError if the database is behind this worker."""
    needed = max((migration.version for migration in load_migrations()), default=0)
    version = await schema_version(pool)
    if version < needed:
        raise StartupCheckError(
            "INGEST_DATABASE_URL",
            f"the database at {redact_url(settings.database_url.get_secret_value())} is at "
            f"schema version {version}, this worker needs {needed}: run `ingest-worker migrate`",
        )
    return version


async def check_bucket(s3: S3Client, settings: Settings) -> None:
    """StartupCheckError if the bucket does not exist or cannot be read."""
    try:
        await s3.head_bucket(Bucket=settings.s3_bucket)
    except ClientError as error:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        reason = {404: "does not exist", 403: "is not readable with these credentials"}.get(
            int(status or 0), str(error)
        )
        raise StartupCheckError(
            "INGEST_S3_BUCKET", f"bucket {settings.s3_bucket} {reason}"
        ) from error
    except Exception as error:
        raise StartupCheckError(
            "INGEST_S3_ENDPOINT_URL" if settings.s3_endpoint_url else "INGEST_S3_BUCKET",
            f"cannot reach S3 for bucket {settings.s3_bucket}: {error}",
        ) from error


@asynccontextmanager
async def open_services(settings: Settings, *, check: bool = True) -> AsyncIterator[Services]:
    """Open and check everything; close it all on the way out."""
    async with AsyncExitStack() as stack:
        pool = await create_pool(settings)
        stack.push_async_callback(close_pool, pool)
        if check:
            await check_schema(pool, settings)
        s3, sqs = await open_clients(settings, stack)
        if check:
            await check_bucket(s3, settings)
        queue = await JobQueue.open(
            sqs, settings.sqs_queue_url, settings.sqs_dlq_url, settings.max_receive_count
        )
        yield Services(settings=settings, pool=pool, s3=s3, sqs=sqs, queue=queue)


@asynccontextmanager
async def open_command_services(settings: Settings) -> AsyncIterator[Services]:
    """The services for a one-off command (jobs, review, submit, discover, retention): a
    pool of at most two connections, no start-up checks (the command's own queries say
    what is wrong)."""
    small = settings.model_copy(update={"db_pool_min_size": 1, "db_pool_max_size": 2})
    async with open_services(small, check=False) as services:
        yield services
