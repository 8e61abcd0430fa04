"""Reprocessing as the database sees it: one transaction with the job's row locked (review
actions wait for it), the edited live rows read through a cursor, their re-normalised
fields and problems staged in scratch tables, then the issues filed, re-opened or
resolved, the cross-row checks run again and the job decided."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import asyncpg

from worker.model import CONTACT_FIELDS, STAGING_COLUMNS, Job, JobStatus, RowIssue
from worker.store.pool import Connection
from worker.store.queries import sql
from worker.store.staging import plan_for_whole_job, recheck

_PROBLEM_COLUMNS = ("issue_key", "type", "field", "message", "row_number")
# The row number and the staging field columns (what RowValidator.revalidate returns).
FIELD_COLUMNS = (STAGING_COLUMNS[0], *STAGING_COLUMNS[3:10])


class Reprocessing:
    """One reprocessing transaction; open it with :meth:`open`."""

    def __init__(self, connection: Connection, job_id: UUID, tenant: str) -> None:
        self.connection = connection
        self.job_id = job_id
        self.tenant = tenant

    @classmethod
    @asynccontextmanager
    async def open(
        cls, pool: asyncpg.Pool, job_id: UUID
    ) -> AsyncIterator[Reprocessing | JobStatus | None]:
        """The transaction, with the job's row locked, for as long as the block runs; or,
        when the job is not in review any more, its status (None when it is gone)."""
        async with pool.acquire() as connection, connection.transaction():
            job = await connection.fetchrow(sql("lock_job_for_reprocessing"), job_id)
            if job is None or job["status"] != JobStatus.NEEDS_REVIEW:
                yield JobStatus(job["status"]) if job is not None else None
                return
            await plan_for_whole_job(connection)
            await connection.execute(sql("create_reprocessing_tables"))
            yield cls(connection, job_id, job["user_id"])

    async def edited_rows(
        self, page_rows: int
    ) -> AsyncIterator[tuple[list[int], list[list[str | None]]]]:
        """The live rows people edited, a page at a time: their numbers, and their fields
        in :data:`~worker.model.CONTACT_FIELDS` order."""
        cursor = await self.connection.cursor(sql("fetch_edited_rows"), self.job_id)
        while page := await cursor.fetch(page_rows):
            yield (
                [row["row_number"] for row in page],
                [[row[name] for name in CONTACT_FIELDS] for row in page],
            )

    async def stage(self, fields: Sequence[tuple[Any, ...]], problems: Sequence[RowIssue]) -> None:
        """Keep a page's re-normalised fields (:data:`FIELD_COLUMNS`) and problems."""
        await self.connection.copy_records_to_table(
            "reprocess_fields", columns=FIELD_COLUMNS, records=fields
        )
        if problems:
            await self.connection.copy_records_to_table(
                "reprocess_problems",
                columns=_PROBLEM_COLUMNS,
                records=[(p.key, p.type, p.field, p.message, p.row_number) for p in problems],
            )

    async def decide(self) -> Job | None:
        """Apply the staged fields, file or resolve the row issues, run the cross-row
        checks again and decide; None if the job left review meanwhile."""
        await self.connection.execute(sql("apply_revalidated_fields"), self.job_id)
        await self.connection.execute(sql("file_revalidated_row_issues"), self.job_id)
        await self.connection.execute(sql("resolve_fixed_row_issues"), self.job_id)
        return await recheck(self.connection, self.job_id, self.tenant)
