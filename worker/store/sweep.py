"""The sweep's view of the jobs table: which jobs nothing would move, found and marked in
one transaction that one sweep at a time holds (see :mod:`worker.sweep`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import cast

import asyncpg

from worker.model import JobAction, JobStatus
from worker.store.queries import sql


@dataclass(frozen=True)
class Stranded:
    """A job the sweep sends its message again: what to send, and why."""

    job_id: uuid.UUID
    status: JobStatus
    action: JobAction
    why: str


async def find_stranded(
    pool: asyncpg.Pool,
    *,
    after_s: float,
    export_attempts: int,
    export_retry_base_s: float,
    limit: int,
    queue_empty: bool,
    mark: bool,
) -> list[Stranded] | None:
    """Failed exports to ask for again, then stranded jobs (PENDING ones only when
    ``queue_empty``), up to ``limit``; marked as swept when ``mark``. None when another
    sweep is running."""
    async with pool.acquire() as connection, connection.transaction():
        if not await connection.fetchval(sql("lock_sweep")):
            return None
        rows = await connection.fetch(
            sql("find_failed_exports"), export_attempts, export_retry_base_s, limit
        )
        rows += await connection.fetch(
            sql("find_stranded_jobs"), after_s, limit - len(rows), queue_empty
        )
        found = [
            Stranded(
                row["id"], JobStatus(row["status"]), cast(JobAction, row["action"]), row["why"]
            )
            for row in rows
        ]
        if mark and found:
            await connection.execute(sql("mark_swept"), [entry.job_id for entry in found])
        return found
