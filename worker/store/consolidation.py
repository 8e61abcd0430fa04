"""Consolidation as the database sees it: a job's READY rows become its tenant's contacts
in one transaction, serialised per tenant (an advisory lock). A row whose email the tenant
gained since the checks becomes a CONTACT_CONFLICT issue instead."""

from __future__ import annotations

import asyncpg

from worker.model import Job
from worker.store.queries import sql
from worker.store.staging import extra_fields_sql, plan_for_whole_job, raw_width


async def consolidate(pool: asyncpg.Pool, job: Job) -> tuple[Job, int] | None:
    """Consolidate the job: the job as it is left (COMPLETED, or NEEDS_REVIEW after
    conflicts) and how many contacts it gave; None if it was no longer CONSOLIDATING."""
    headers = [str(name) for name in job.header or []]
    mapping = (job.column_mapping or {}).get("fields", {})
    mapped = {int(field["column"]) for field in mapping.values()}
    async with pool.acquire() as connection, connection.transaction():
        await plan_for_whole_job(connection)
        await connection.execute(sql("lock_tenant_contacts"), job.tenant)
        extra = extra_fields_sql(await raw_width(connection, job.id, headers), mapped)
        # The header ($3) is an argument only when the expression names it.
        args = (job.id, job.tenant, headers) if "$3" in extra else (job.id, job.tenant)
        await connection.execute(sql("update_accepted_contacts").replace("/*extra*/", extra), *args)
        await connection.execute(sql("file_contact_conflicts"), job.id, job.tenant)
        await connection.execute(sql("insert_ready_contacts").replace("/*extra*/", extra), *args)
        await connection.execute(sql("mark_consolidated_rows"), job.id)
        row = await connection.fetchrow(sql("finish_consolidation"), job.id)
    if row is None:
        return None
    return Job.from_record(row), int(row["consolidated"])
