"""Consolidation as the database sees it: a job's READY rows become its tenant's contacts
in one transaction, serialised per tenant (an advisory lock). A row whose email the tenant
gained since the checks becomes a CONTACT_CONFLICT issue instead."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from worker.model import Job
from worker.store.pool import timed
from worker.store.queries import sql
from worker.store.staging import extra_fields_sql, plan_for_whole_job, raw_width


@dataclass(frozen=True)
class Consolidated:
    """A consolidation's outcome: the job as it is left (COMPLETED, or NEEDS_REVIEW after
    conflicts), how many contacts it gave, and the seconds of each statement."""

    job: Job
    contacts: int
    steps: dict[str, float]


async def consolidate(pool: asyncpg.Pool, job: Job) -> Consolidated | None:
    """Consolidate the job; None if it was no longer CONSOLIDATING."""
    headers = [str(name) for name in job.header or []]
    mapping = (job.column_mapping or {}).get("fields", {})
    mapped = {int(field["column"]) for field in mapping.values()}
    steps: dict[str, float] = {}
    async with pool.acquire() as connection, connection.transaction():
        await plan_for_whole_job(connection)
        with timed(steps, "lock_s"):
            await connection.execute(sql("lock_tenant_contacts"), job.tenant)
        extra = extra_fields_sql(await raw_width(connection, job.id, headers), mapped)
        # The header ($3) is an argument only when the expression names it.
        args = (job.id, job.tenant, headers) if "$3" in extra else (job.id, job.tenant)
        statements = (
            ("update_s", sql("update_accepted_contacts").replace("/*extra*/", extra), args),
            ("conflicts_s", sql("file_contact_conflicts"), (job.id, job.tenant)),
            ("insert_s", sql("insert_ready_contacts").replace("/*extra*/", extra), args),
            ("mark_s", sql("mark_consolidated_rows"), (job.id,)),
        )
        for step, query, values in statements:
            with timed(steps, step):
                await connection.execute(query, *values)
        with timed(steps, "finish_s"):
            row = await connection.fetchrow(sql("finish_consolidation"), job.id)
    if row is None:
        return None
    return Consolidated(Job.from_record(row), int(row["consolidated"]), steps)
