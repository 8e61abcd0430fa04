"""The consolidation flow: a job's READY rows become the tenant's contacts, atomically.

One transaction, serialised per tenant (an advisory lock), so two jobs of one tenant never
insert the same email at once and a worker killed mid-way leaves all of it or none. A row
whose email the tenant gained since the checks (another job, the tenant's own app) is not
dropped: it becomes a CONTACT_CONFLICT issue and the job goes back to NEEDS_REVIEW.
"""

from __future__ import annotations

import time

from worker.errors import JobGone
from worker.flows.base import FlowContext
from worker.logs import get_logger
from worker.store.queries import sql
from worker.store.staging import extra_fields_sql, plan_for_whole_job, raw_width

log = get_logger("worker.flows.consolidate")


async def run_consolidation(context: FlowContext) -> None:
    """Consolidate ``context.job`` into its tenant's contacts."""
    job = context.job
    job_id, user_id = job["id"], job["user_id"]
    headers = [str(name) for name in job["header"] or []]
    mapping = (job["column_mapping"] or {}).get("fields", {})
    mapped = {int(field["column"]) for field in mapping.values()}
    started = time.monotonic()
    async with context.pool.acquire() as connection, connection.transaction():
        await plan_for_whole_job(connection)
        await connection.execute(sql("lock_tenant_contacts"), user_id)
        extra = extra_fields_sql(await raw_width(connection, job_id, headers), mapped)
        # The header ($3) is an argument only when the expression names it.
        args = (job_id, user_id, headers) if "$3" in extra else (job_id, user_id)
        await connection.execute(sql("update_accepted_contacts").replace("/*extra*/", extra), *args)
        await connection.execute(sql("file_contact_conflicts"), job_id, user_id)
        await connection.execute(sql("insert_ready_contacts").replace("/*extra*/", extra), *args)
        await connection.execute(sql("mark_consolidated_rows"), job_id)
        outcome = await connection.fetchrow(sql("finish_consolidation"), job_id)
    if outcome is None:
        raise JobGone(f"job {job_id} was no longer CONSOLIDATING; nothing was consolidated")
    log.info(
        "consolidation_finished",
        status=outcome["status"],
        contacts=outcome["consolidated"],
        unresolved_issues=outcome["unresolved_issues"],
        seconds=round(time.monotonic() - started, 3),
    )
