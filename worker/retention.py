"""Retention: remove old jobs' staging rows and exports; contacts are never touched.

A COMPLETED (or CANCELLED) job finished more than N days ago and a FAILED one more than M
days ago lose their staging rows (their issue links go with them) and every export file
written for them (all decisions, under ``<export prefix>/<tenant>/<job>/``). The job row,
its issues, its review history and the contacts it made stay; the job is marked
``purged_at``. Export files are deleted before the rows, so a run stopped half-way is
simply run again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from worker.logs import get_logger
from worker.model import JobStatus
from worker.store.jobs import jobs_to_purge, purge_job

if TYPE_CHECKING:
    import asyncpg
    from types_aiobotocore_s3 import S3Client

    from worker.settings import Settings

log = get_logger("worker.retention")
# DeleteObjects takes at most 1,000 keys a request.
S3_MAX_DELETE_KEYS = 1000


@dataclass(frozen=True)
class Purged:
    """What retention did (or would do) to one job."""

    job_id: UUID
    status: JobStatus
    finished_at: datetime
    staging_rows: int | None
    export_objects: int

    def line(self, dry_run: bool) -> str:
        """One line for a person."""
        rows = (
            "its staging rows" if self.staging_rows is None else f"{self.staging_rows} staging rows"
        )
        verb = "would remove" if dry_run else "removed"
        return (
            f"{self.job_id}  {self.status:<10} finished {self.finished_at:%Y-%m-%d}: {verb} "
            f"{rows} and {self.export_objects} export file(s)"
        )


async def _export_keys(s3: S3Client, settings: Settings, tenant: str, job_id: UUID) -> list[str]:
    prefix = f"{settings.export_prefix.rstrip('/')}/{tenant}/{job_id}/"
    keys: list[str] = []
    async for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=settings.s3_bucket, Prefix=prefix
    ):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return keys


async def purge(
    pool: asyncpg.Pool,
    s3: S3Client,
    settings: Settings,
    *,
    completed_days: int,
    failed_days: int,
    dry_run: bool = False,
    limit: int = 1000,
    now: datetime | None = None,
) -> list[Purged]:
    """Purge (or, ``dry_run``, list) up to ``limit`` jobs past their retention."""
    now = now or datetime.now(UTC)
    jobs = await jobs_to_purge(
        pool, now - timedelta(days=completed_days), now - timedelta(days=failed_days), limit
    )
    done: list[Purged] = []
    for job in jobs:
        keys = await _export_keys(s3, settings, job.tenant, job.id)
        rows: int | None = None
        if not dry_run:
            for start in range(0, len(keys), S3_MAX_DELETE_KEYS):
                await s3.delete_objects(
                    Bucket=settings.s3_bucket,
                    Delete={
                        "Objects": [
                            {"Key": key} for key in keys[start : start + S3_MAX_DELETE_KEYS]
                        ],
                        "Quiet": True,
                    },
                )
            rows = await purge_job(pool, job.id)
            log.info("job_purged", job_id=str(job.id), staging_rows=rows, export_objects=len(keys))
        done.append(Purged(job.id, job.status, job.finished_at, rows, len(keys)))
    return done
