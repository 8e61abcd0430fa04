"""Review as the database sees it: the tenant's job and rows locked for an action, the
changes people make (edits, discards, accepted issues, reprocessing requests), and the
listings they read. Every statement names the tenant or runs on a job the caller locked
for it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from worker.model import CONTACT_FIELDS, IssueType, JobStatus, RowStatus
from worker.store.pool import Connection, Executor
from worker.store.queries import sql
from worker.store.staging import plan_for_whole_job


@dataclass(frozen=True)
class LockedRow:
    """A staging row locked for a review action."""

    row_number: int
    status: RowStatus
    fields: dict[str, str | None]  # CONTACT_FIELDS' current values


@dataclass(frozen=True)
class LockedIssue:
    """An issue of a locked job, with the rows it concerns."""

    id: int
    type: IssueType
    resolved: bool
    rows: list[int]


async def job_status(executor: Executor, job_id: UUID, tenant: str) -> JobStatus | None:
    """The tenant's job's status (no lock), or None when the tenant has no such job."""
    row = await executor.fetchrow(sql("review_job"), job_id, tenant)
    return JobStatus(row["status"]) if row is not None else None


async def lock_job(connection: Connection, job_id: UUID, tenant: str) -> JobStatus | None:
    """Lock the tenant's job until the caller's transaction ends (actions and reprocessing
    on one job happen one after the other); its status, or None when there is no such job."""
    row = await connection.fetchrow(sql("review_lock_job"), job_id, tenant)
    return JobStatus(row["status"]) if row is not None else None


async def lock_row(connection: Connection, job_id: UUID, row_number: int) -> LockedRow | None:
    """Lock one staging row of a locked job; None when there is no such row."""
    row = await connection.fetchrow(sql("review_lock_row"), job_id, row_number)
    if row is None:
        return None
    return LockedRow(
        row["row_number"], RowStatus(row["status"]), {name: row[name] for name in CONTACT_FIELDS}
    )


async def lock_issue(connection: Connection, job_id: UUID, number: int) -> LockedIssue | None:
    """Issue ``number`` (1, 2, ... within the job, in the order its issues were filed) of a
    locked job, with its rows; None when the job has no such issue."""
    row = await connection.fetchrow(sql("review_lock_issue"), job_id, number)
    if row is None:
        return None
    return LockedIssue(row["id"], IssueType(row["type"]), bool(row["resolved"]), list(row["rows"]))


async def edit_row(
    connection: Connection, job_id: UUID, row_number: int, fields: Mapping[str, str | None]
) -> None:
    """Set a row's fields (every one of CONTACT_FIELDS), marked as edited."""
    await connection.execute(
        sql("review_edit_row"), job_id, row_number, *(fields[name] for name in CONTACT_FIELDS)
    )


async def set_row_status(
    connection: Connection, job_id: UUID, row_number: int, *, discard: bool, update: bool
) -> None:
    """Discard a live row, or mark it to update the tenant's existing contact."""
    await connection.execute(sql("review_set_row_status"), job_id, row_number, discard, update)


async def resolve_issue(
    connection: Connection, job_id: UUID, issue_id: int, resolution: str
) -> None:
    """Resolve one issue by a person's decision."""
    await connection.execute(sql("review_resolve_issue"), job_id, issue_id, resolution)


async def record_reprocess_request(connection: Connection, job_id: UUID) -> None:
    """A person asked for the job's reviewed rows to be judged again (now)."""
    await connection.execute(sql("record_reprocess_request"), job_id)


async def list_issues(
    executor: Executor,
    job_id: UUID,
    tenant: str,
    *,
    include_resolved: bool,
    limit: int,
    offset: int,
    rows_per_issue: int,
) -> list[dict[str, Any]]:
    """A page of the job's issues, open first, each with its row count and first rows."""
    records = await executor.fetch(
        sql("review_list_issues"),
        job_id,
        tenant,
        include_resolved,
        limit,
        offset,
        rows_per_issue,
    )
    return [dict(record) for record in records]


async def list_rows(
    pool: asyncpg.Pool,
    job_id: UUID,
    tenant: str,
    *,
    status: RowStatus | None,
    after_row: int,
    limit: int,
) -> list[dict[str, Any]]:
    """Up to ``limit`` of the job's rows after ``after_row`` (only ``status`` ones if
    given), with their raw cells, current fields and open issues."""
    async with pool.acquire() as connection, connection.transaction(readonly=True):
        # The page's rows meet their issue links and the job's numbered issues: joins of
        # per-row sets, linear only without nested loops (see plan_for_whole_job).
        await plan_for_whole_job(connection)
        records = await connection.fetch(
            sql("review_list_rows"), job_id, tenant, status, after_row, limit
        )
    return [dict(record) for record in records]


async def history(
    executor: Executor, job_id: UUID, tenant: str, row_number: int | None
) -> list[dict[str, Any]]:
    """What people did to the job (or to one row), oldest first."""
    records = await executor.fetch(sql("review_history"), job_id, tenant, row_number)
    return [dict(record) for record in records]
