"""Writing a job's staging rows and issues: one transaction per batch, then the set-based
checks and the decision in one more."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

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
    """Cross-row checks in SQL (duplicates in the file, emails the tenant already has),
    the rows' final status, the counters and the decision, in one durable transaction.
    Safe to run twice: every issue has a deterministic key."""
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute(sql("file_duplicate_issues"), job_id)
        await connection.execute(sql("link_duplicate_issues"), job_id)
        await connection.execute(sql("file_existing_contact_issues"), job_id, user_id)
        await connection.execute(sql("mark_rows_with_open_issues"), job_id)
        row = await connection.fetchrow(sql("finish_initial_job"), job_id, sha256, bytes_read)
        if row is None:
            raise LookupError(f"job {job_id} disappeared during its initial flow")
        return row
