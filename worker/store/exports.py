"""A job's exports as the database holds them: the writer's lock and claim, the record of
what was written (or why not), and the snapshot the three files are read from.

The files themselves are the server's own CSV (``COPY (SELECT ...) TO STDOUT``): the
export flow streams what :meth:`ExportSnapshot.copy` yields to S3.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

import asyncpg

from worker.model import Job
from worker.store.pool import Connection, Executor
from worker.store.queries import sql
from worker.store.staging import plan_for_whole_job, raw_width

ExportKind = Literal["all", "valid", "issues"]
EXPORT_KINDS: tuple[ExportKind, ...] = ("all", "valid", "issues")
# The rows of each file, as SQL over staging's status (fixed text only).
_VALID = "status IN ('READY', 'SUCCESS')"
_ISSUE = "status = 'ISSUE'"
_FILTERS: dict[ExportKind, str] = {"all": "true", "valid": f"s.{_VALID}", "issues": f"s.{_ISSUE}"}
# The tag that leads each row of a tagged :meth:`ExportSnapshot.copy`: the file it goes to
# besides all.csv (``v`` valid, ``i`` issues, ``o`` neither).
_TAG = f"CASE WHEN e.{_VALID} THEN 'v' WHEN e.{_ISSUE} THEN 'i' ELSE 'o' END, "


@dataclass(frozen=True)
class Claim:
    """The right to write a job's exports for its current decision."""

    id: str
    job: Job
    previous_state: str | None  # 'writing': a dead writer's claim, taken over


@dataclass(frozen=True)
class JobExports:
    """A job with its exports record, and whether that record is for its last decision."""

    job: Job
    current: bool


@asynccontextmanager
async def export_lock(pool: asyncpg.Pool, job_id: UUID) -> AsyncIterator[Connection | None]:
    """The job's export lock on a connection of its own for as long as the block runs
    (a session lock: it dies with its writer); yields the connection, or None when a live
    writer holds it."""
    async with pool.acquire() as connection:
        if not await connection.fetchval(sql("lock_exports"), job_id):
            yield None
            return
        try:
            yield connection
        finally:
            with suppress(Exception):  # a broken connection drops the lock itself
                await connection.execute(sql("unlock_exports"), job_id)


async def export_writer_alive(pool: asyncpg.Pool, job_id: UUID) -> bool:
    """Whether a live writer holds the job's export lock."""
    async with export_lock(pool, job_id) as connection:
        return connection is None


async def claim_exports(connection: Connection, job_id: UUID, claim_id: str) -> Claim | None:
    """Claim the writing of the job's exports for its current decision (holding
    :func:`export_lock`); None when they are written for it or it has no decision."""
    row = await connection.fetchrow(sql("claim_exports"), job_id, claim_id)
    if row is None:
        return None
    return Claim(claim_id, Job.from_record(row), row["previous_state"])


async def refresh_claim(executor: Executor, job_id: UUID, claim_id: str) -> bool:
    """Keep a claim fresh while parts upload; False when another writer took over."""
    return await executor.fetchval(sql("refresh_export_claim"), job_id, claim_id) is not None


async def record_exports(
    connection: Connection, job_id: UUID, claim_id: str, files: dict[str, Any]
) -> dict[str, Any]:
    """Record the files written under a claim; the job's exports record."""
    recorded = await connection.fetchval(
        sql("record_exports"), job_id, claim_id, json.dumps(files, ensure_ascii=False)
    )
    exports: dict[str, Any] = json.loads(recorded) if isinstance(recorded, str) else recorded
    return exports


async def record_export_failure(
    executor: Executor, job_id: UUID, claim_id: str, reason: str
) -> None:
    """Why the exports under a claim could not be written (a new request claims again)."""
    await executor.execute(sql("record_export_failure"), job_id, claim_id, reason)


async def job_exports(executor: Executor, job_id: UUID, tenant: str | None) -> JobExports | None:
    """The job (of ``tenant`` when given) with its exports record, or None."""
    row = await executor.fetchrow(sql("job_exports"), job_id, tenant)
    if row is None:
        return None
    return JobExports(Job.from_record(row), bool(row["exports_current"]))


async def reset_exports(executor: Executor, job_id: UUID) -> None:
    """Forget the job's exports for its decision: the next request writes them again."""
    await executor.execute(sql("reset_exports"), job_id)


def export_query(kind: ExportKind, width: int, *, tagged: bool = False) -> str:
    """The SQL of one export file over rows of ``width`` cells (see ``export_csv``);
    ``tagged``: each row led by its tag (``_TAG``)."""
    numbers = range(1, width + 1)
    cells = "".join(f"ingest_export_cell(e.c{n}), " for n in numbers)
    raw_cells = "".join(f", ingest_raw_cell(s.raw, {n}) AS c{n}" for n in numbers)
    return (
        sql("export_csv")
        .replace("/*tag*/", _TAG if tagged else "")
        .replace("/*cells*/", cells)
        .replace("/*raw cells*/", raw_cells)
        .replace("/*filter*/", _FILTERS[kind])
    )


class ExportSnapshot:
    """One snapshot of a job's rows for its three files (a repeatable-read transaction on
    the writer's connection): the open issues collected once, the rows' width, and each
    file's CSV streamed by the server. Open with :meth:`open`."""

    def __init__(self, connection: Connection, job: Job, width: int, all_valid: bool) -> None:
        self.connection = connection
        self.job = job
        self.width = width  # cells in the widest row: the header's, or a ragged row's
        self.all_valid = all_valid  # every row valid: valid.csv is all.csv

    @classmethod
    @asynccontextmanager
    async def open(
        cls, connection: Connection, job: Job, headers: Sequence[str]
    ) -> AsyncIterator[ExportSnapshot]:
        """The snapshot for as long as the block runs."""
        async with connection.transaction(isolation="repeatable_read"):
            await plan_for_whole_job(connection)
            await connection.execute(sql("create_export_issues"))
            await connection.execute(sql("collect_export_issues"), job.id)
            await connection.execute(sql("collect_export_notes"), job.id)
            await connection.execute(sql("analyze_export_issues"))
            width = await raw_width(connection, job.id, headers)
            # Only the files' own queries go without sorts: collecting the issues groups
            # them, and with sorts off the planner chose per-row probes to avoid one
            # (PostgreSQL 15).
            await connection.execute(sql("plan_in_file_order"))
            all_valid = bool(await connection.fetchval(sql("export_every_row_valid"), job.id))
            yield cls(connection, job, width, all_valid)

    async def copy(
        self,
        kind: ExportKind,
        output: Callable[[bytes], Coroutine[Any, Any, None]],
        *,
        tagged: bool = False,
    ) -> int:
        """Stream the file's CSV rows (no header) to ``output``; how many rows there were.
        ``tagged`` (with ``all``): each row led by a tag column naming the file it also goes
        to (``v`` valid.csv, ``i`` issues.csv, ``o`` neither), so that one scan of the
        job's rows feeds the three files."""
        status = await self.connection.copy_from_query(
            export_query(kind, self.width, tagged=tagged),
            self.job.id,
            self.job.status,
            output=output,
            format="csv",
        )
        return int(status.split()[-1])
