"""The jobs table: creating jobs, loading them with what routing needs, the job lock, the
attempt and failure records, and what operators read and do (list, show, cancel...).

Everything here hands back :class:`~worker.model.Job` values and small typed records; the
tenant is ``tenant`` in code and the ``user_id`` column only in SQL.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from worker.model import Job, JobStatus, ReviewAction
from worker.store.pool import Executor
from worker.store.queries import sql


@dataclass(frozen=True)
class Routing:
    """What the router needs of a job: the job, and whether it has staging rows."""

    job: Job
    has_staging: bool


@dataclass(frozen=True)
class OpenIssue:
    """One unresolved issue of a job with the rows it concerns."""

    type: str
    field: str | None
    message: str
    rows: list[int]


@dataclass(frozen=True)
class RowCounts:
    """A job's rows by what became of them (they add up to its total)."""

    imported: int
    ready: int
    with_issues: int
    discarded: int


@dataclass(frozen=True)
class DiscardReason:
    """How many of a job's rows one kind of action discarded, and by whom."""

    action: str
    rows: int
    actors: str


@dataclass(frozen=True)
class NewJob:
    """A job a bulk insert created."""

    id: UUID
    source_key: str


async def create_job(connection: Executor, **job: Any) -> UUID:
    """Insert a PENDING job for an uploaded object and return its id (the existing job's,
    when the tenant already used the idempotency key); takes the keyword arguments of
    :func:`create_or_get_job`."""
    job_id, _ = await create_or_get_job(connection, **job)
    return job_id


async def create_or_get_job(
    connection: Executor,
    *,
    tenant: str,
    bucket: str,
    key: str,
    version_id: str | None = None,
    etag: str | None = None,
    original_filename: str | None = None,
    options: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> tuple[UUID, bool]:
    """The job's id and True if this call created it, False if the tenant's
    ``idempotency_key`` already named one (then nothing is inserted)."""
    row = await connection.fetchrow(
        sql("insert_job"),
        tenant,
        bucket,
        key,
        version_id,
        etag,
        original_filename,
        # As text: works whether or not the connection registered a jsonb codec.
        json.dumps(options or {}),
        idempotency_key,
    )
    if row is None:
        # A concurrent insert with the same key committed after this statement's snapshot.
        existing = await job_by_idempotency_key(connection, tenant, idempotency_key)
        if existing is None:
            raise LookupError(f"job with idempotency key {idempotency_key!r} vanished")
        return existing[0], False
    return row["id"], bool(row["created"])


async def job_by_idempotency_key(
    connection: Executor, tenant: str, idempotency_key: str | None
) -> tuple[UUID, str] | None:
    """The tenant's job with this idempotency key and its object's key, or None."""
    row = await connection.fetchrow(sql("job_by_idempotency_key"), tenant, idempotency_key)
    return (row["id"], row["source_key"]) if row is not None else None


async def insert_jobs(
    connection: Executor,
    *,
    tenants: list[str | None],
    bucket: str,
    keys: list[str],
    version_ids: list[str | None],
    etags: list[str | None],
    filenames: list[str],
    options: list[str],
    idempotency_keys: list[str],
) -> list[NewJob]:
    """Create PENDING jobs in bulk, in the order given; those whose tenant already used
    the idempotency key are skipped. Returns the new ones."""
    rows = await connection.fetch(
        sql("insert_jobs"),
        tenants,
        bucket,
        keys,
        version_ids,
        etags,
        filenames,
        options,
        idempotency_keys,
    )
    return [NewJob(row["id"], row["source_key"]) for row in rows]


async def ingested_objects(
    connection: Executor, bucket: str, keys: list[str]
) -> list[tuple[str, str | None, str | None]]:
    """The objects of ``bucket`` among ``keys`` that jobs were made from: key, version id
    and ETag of each job."""
    rows = await connection.fetch(sql("ingested_objects"), bucket, keys)
    return [(row["source_key"], row["source_version_id"], row["source_etag"]) for row in rows]


async def fetch_job(connection: Executor, job_id: UUID, tenant: str | None = None) -> Job | None:
    """The job (of ``tenant`` when given: another tenant's job is no job), or None."""
    row = await connection.fetchrow(sql("fetch_tenant_job"), job_id, tenant)
    return Job.from_record(row) if row is not None else None


async def open_issues(connection: Executor, job_id: UUID, limit: int = 100) -> list[OpenIssue]:
    """The job's unresolved issues, first rows first, each with the rows it concerns."""
    rows = await connection.fetch(sql("job_open_issues"), job_id, limit)
    return [OpenIssue(row["type"], row["field"], row["message"], list(row["rows"])) for row in rows]


async def record_action(
    connection: Executor,
    job_id: UUID,
    *,
    tenant: str,
    actor: str,
    action: ReviewAction,
    row_number: int | None = None,
    issue_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    """Record who did what to a job (and to which row or issue); the record's id."""
    record = await connection.fetchrow(
        sql("review_record_action"),
        job_id,
        tenant,
        actor,
        action,
        row_number,
        issue_id,
        json.dumps(details or {}, ensure_ascii=False, default=str),
    )
    if record is None:  # an INSERT ... RETURNING always returns its row
        raise LookupError("review_record_action returned no row")
    return int(record["id"])


class JobStore:
    """The jobs table as the daemon and the operator commands use it, over one pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    # --- the daemon

    @asynccontextmanager
    async def lock(self, job_id: UUID) -> AsyncIterator[bool]:
        """Try the job's lock (one worker at a time runs a job) for as long as the block
        runs; yields whether it is held. The lock is a session lock: it dies with the
        worker's connection, so a killed worker never keeps a job."""
        async with self.pool.acquire() as connection:
            held = bool(await connection.fetchval(sql("try_lock_job"), job_id))
            try:
                yield held
            finally:
                if held:
                    with suppress(Exception):  # a broken connection drops the lock itself
                        await connection.execute(sql("unlock_job"), job_id)

    async def routing(self, job_id: UUID) -> Routing | None:
        """The job and whether it has staging rows, or None if there is no such job."""
        job = await fetch_job(self.pool, job_id)
        if job is None:
            return None
        has_staging = bool(await self.pool.fetchval(sql("job_has_staging"), job_id))
        return Routing(job, has_staging)

    async def reset_failed(self, job_id: UUID) -> bool:
        """Make a FAILED job runnable again (PENDING, error cleared); whether it was."""
        return await self.pool.fetchval(sql("reset_failed_job"), job_id) is not None

    async def count_attempt(self, job_id: UUID) -> Job | None:
        """Count one more attempt at the job; the job, or None if it is gone."""
        row = await self.pool.fetchrow(sql("count_job_attempt"), job_id)
        return Job.from_record(row) if row is not None else None

    async def record_error(self, job_id: UUID, reason: str) -> None:
        """Keep the last transient error on a job that will be retried."""
        await self.pool.execute(sql("record_job_error"), job_id, reason)

    async def fail(self, job_id: UUID, reason: str) -> bool:
        """Mark the job FAILED with ``reason`` unless it already finished; whether it was."""
        return await self.pool.fetchval(sql("fail_job"), job_id, reason) is not None

    # --- operators

    async def get(self, job_id: UUID, tenant: str | None = None) -> Job | None:
        """The job (of ``tenant`` when given), or None."""
        return await fetch_job(self.pool, job_id, tenant)

    async def holder(self, job_id: UUID) -> str | None:
        """The application name of the worker process holding the job's lock, if any."""
        row = await self.pool.fetchrow(sql("job_holder"), job_id)
        return str(row["application_name"]) if row is not None else None

    async def open_issues(self, job_id: UUID, limit: int = 100) -> list[OpenIssue]:
        """The job's unresolved issues (see :func:`open_issues`)."""
        return await open_issues(self.pool, job_id, limit)

    async def count_open_issues(self, job_id: UUID) -> int:
        """How many of the job's issues are open now."""
        return int(await self.pool.fetchval(sql("count_open_issues"), job_id))

    async def row_counts(self, job_id: UUID) -> RowCounts | None:
        """The job's rows by what became of them."""
        row = await self.pool.fetchrow(sql("job_row_counts"), job_id)
        if row is None:
            return None
        return RowCounts(
            int(row["imported"]), int(row["ready"]), int(row["with_issues"]), int(row["discarded"])
        )

    async def discard_reasons(self, job_id: UUID) -> list[DiscardReason]:
        """Why the job's discarded rows were discarded: rows per kind of action, by whom."""
        rows = await self.pool.fetch(sql("job_discard_reasons"), job_id)
        return [DiscardReason(row["action"], int(row["rows"]), row["actors"]) for row in rows]

    async def list(self, tenant: str | None, status: JobStatus | None, limit: int) -> list[Job]:
        """The newest jobs (of a tenant, in a status, when given)."""
        return [
            Job.from_record(row)
            for row in await self.pool.fetch(sql("list_jobs"), tenant, status, limit)
        ]

    async def count_by_status(
        self, tenant: str | None, since: datetime | None = None
    ) -> dict[JobStatus, int]:
        """How many jobs (of a tenant, created since, when given) are in each status."""
        rows = await self.pool.fetch(sql("job_stats"), tenant, since)
        return {JobStatus(row["status"]): int(row["jobs"]) for row in rows}

    async def cancel(self, job_id: UUID, tenant: str | None, actor: str) -> tuple[bool, Job | None]:
        """Cancel a PENDING or NEEDS_REVIEW job and record who did: whether this call
        cancelled it, and the job as it is now (None when there is no such job)."""
        async with self.pool.acquire() as connection, connection.transaction():
            cancelled = await connection.fetchrow(sql("cancel_job"), job_id, tenant)
            if cancelled is not None:
                await record_action(
                    connection,
                    job_id,
                    tenant=cancelled["user_id"],
                    actor=actor,
                    action=ReviewAction.CANCEL,
                )
            return cancelled is not None, await fetch_job(connection, job_id, tenant)

    async def record_action(
        self, job: Job, actor: str, action: ReviewAction, *, details: dict[str, Any]
    ) -> None:
        """Record an operator's action on the job."""
        await record_action(
            self.pool, job.id, tenant=job.tenant, actor=actor, action=action, details=details
        )


@dataclass(frozen=True)
class Finished:
    """A job past its retention."""

    id: UUID
    tenant: str
    status: JobStatus
    finished_at: datetime


async def jobs_to_purge(
    executor: Executor, completed_before: datetime, failed_before: datetime, limit: int
) -> list[Finished]:
    """COMPLETED or CANCELLED jobs finished before ``completed_before`` and FAILED ones
    finished before ``failed_before``, not purged yet, oldest first."""
    rows = await executor.fetch(sql("jobs_to_purge"), completed_before, failed_before, limit)
    return [
        Finished(row["id"], row["user_id"], JobStatus(row["status"]), row["finished_at"])
        for row in rows
    ]


async def purge_job(executor: Executor, job_id: UUID) -> int:
    """Remove the job's staging rows, their issue links and its exports record (the job,
    its issues, review history and contacts stay); how many rows were removed."""
    return int(await executor.fetchval(sql("purge_job"), job_id))
