"""Writing a job's staging rows and issues: one transaction per batch, then the set-based
checks and the decision in one more."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from worker.errors import JobGone
from worker.store.queries import sql
from worker.validation import STAGING_COLUMNS, RowIssue


async def write_batch(
    pool: asyncpg.Pool,
    job_id: UUID,
    *,
    records: Sequence[tuple[Any, ...]],
    issues: Sequence[RowIssue],
    checkpoint_row: int,
    processed_rows: int,
    bytes_read: int,
) -> None:
    """COPY the batch into staging, file its issues and advance the checkpoint, atomically:
    a worker killed at any instant leaves all of the batch or none of it."""
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute(sql("relax_commit_durability"))
        if records:
            await connection.copy_records_to_table(
                "staging",
                columns=("job_id", *STAGING_COLUMNS),
                records=[(job_id, *record) for record in records],
            )
        if issues:
            await connection.execute(
                sql("insert_row_issues"),
                job_id,
                [issue.key for issue in issues],
                [issue.type for issue in issues],
                [issue.field for issue in issues],
                [issue.message for issue in issues],
                [issue.row_number for issue in issues],
            )
        await connection.execute(
            sql("record_batch_progress"), job_id, checkpoint_row, processed_rows, bytes_read
        )


async def finish_checks(
    pool: asyncpg.Pool, job_id: UUID, user_id: str, sha256: str, bytes_read: int
) -> asyncpg.Record:
    """After the last batch: the totals, the cross-row checks in SQL (duplicates in the
    file, emails the tenant already has), the rows' final status and the decision, in one
    durable transaction. Safe to run twice: every issue has a deterministic key."""
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute(sql("record_initial_totals"), job_id, sha256, bytes_read)
        await collect_duplicates(connection, job_id)
        await connection.execute(sql("file_duplicate_issues"), job_id)
        await connection.execute(sql("link_duplicate_issues"), job_id)
        await connection.execute(sql("file_existing_contact_issues"), job_id, user_id)
        await connection.execute(sql("mark_rows_with_open_issues"), job_id)
        row = await connection.fetchrow(sql("decide_job"), job_id)
        if row is None:
            raise JobGone(f"job {job_id} was cancelled or deleted during its initial flow")
        return row


async def collect_duplicates(
    connection: asyncpg.Connection | PoolConnectionProxy, job_id: UUID
) -> None:
    """Find the job's duplicated live rows once (``duplicate_rows``, a temporary table of
    the caller's transaction) for the duplicate checks that follow."""
    await connection.execute(sql("create_duplicate_rows"))
    await connection.execute(sql("collect_duplicate_rows"), job_id)


async def recheck(
    connection: asyncpg.Connection | PoolConnectionProxy, job_id: UUID, user_id: str
) -> asyncpg.Record | None:
    """The cross-row checks again over the live rows after a review (inside the caller's
    transaction): file or re-open what is a problem now, resolve what no longer is, set
    each live row's status, and decide. None if the job left review meanwhile."""
    await connection.execute(sql("resolve_contact_conflicts"), job_id)
    await collect_duplicates(connection, job_id)
    await connection.execute(sql("file_duplicate_issues"), job_id)
    # Resolve before unlinking: a resolved duplicate keeps the rows it concerned, as history.
    await connection.execute(sql("resolve_duplicate_issues"), job_id)
    await connection.execute(sql("unlink_stale_duplicate_items"), job_id)
    await connection.execute(sql("link_duplicate_issues"), job_id)
    await connection.execute(sql("file_existing_contact_issues"), job_id, user_id)
    await connection.execute(sql("resolve_existing_contact_issues"), job_id, user_id)
    await connection.execute(sql("mark_rows_with_open_issues"), job_id)
    await connection.execute(sql("mark_rows_without_open_issues"), job_id)
    row: asyncpg.Record | None = await connection.fetchrow(sql("decide_job"), job_id)
    return row
