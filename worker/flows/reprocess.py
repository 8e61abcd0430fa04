"""The reprocessing flow: after people reviewed a job, judge its staging rows again.

Never re-reads the file. In one transaction, with the job's row locked (review actions
wait for it): the live rows (READY or ISSUE; DISCARD rows are out) that people edited are
re-validated page by page with the row-local rules on their current values (a row nobody
edited has the values already judged, and the rules are deterministic), their
re-normalised fields and problems go to scratch tables, then SQL files or re-opens the
issues that are problems now, resolves those that are not (resolved issues stay, as
history), runs the cross-row checks again over every live row and decides: open issues ->
NEEDS_REVIEW, none -> CONSOLIDATING. A worker killed mid-way leaves nothing of it; the
next delivery starts it again.
"""

from __future__ import annotations

import time

from worker.flows.base import FlowContext
from worker.logs import get_logger
from worker.model import CONTACT_FIELDS, STAGING_COLUMNS
from worker.store.queries import sql
from worker.store.staging import plan_for_whole_job, recheck
from worker.validation import RowValidator

log = get_logger("worker.flows.reprocess")

_PROBLEM_COLUMNS = ("issue_key", "type", "field", "message", "row_number")
# What RowValidator.revalidate returns: the row number and the staging field columns.
_FIELD_COLUMNS = (STAGING_COLUMNS[0], *STAGING_COLUMNS[3:10])


async def run_reprocessing(context: FlowContext) -> None:
    """Re-validate ``context.job``'s edited live rows, check all of them, decide again."""
    job_id = context.job_id
    validator = RowValidator.for_fields(job_id, dict(context.job["options"] or {}))
    page_rows = context.settings.batch_size_rows
    started = time.monotonic()
    rows_revalidated = 0
    async with context.pool.acquire() as connection, connection.transaction():
        job = await connection.fetchrow(sql("lock_job_for_reprocessing"), job_id)
        if job is None or job["status"] != "NEEDS_REVIEW":
            # Someone else moved it on (cancelled, another delivery already decided).
            log.info("reprocess_skipped", status=job["status"] if job else None)
            return
        await plan_for_whole_job(connection)
        await connection.execute(sql("create_reprocessing_tables"))
        edited = await connection.cursor(sql("fetch_edited_rows"), job_id)
        while page := await edited.fetch(page_rows):
            numbers = [row["row_number"] for row in page]
            fields, problems = validator.revalidate(
                numbers, [[row[name] for name in CONTACT_FIELDS] for row in page]
            )
            await connection.copy_records_to_table(
                "reprocess_fields", columns=_FIELD_COLUMNS, records=fields
            )
            if problems:
                await connection.copy_records_to_table(
                    "reprocess_problems",
                    columns=_PROBLEM_COLUMNS,
                    records=[(p.key, p.type, p.field, p.message, p.row_number) for p in problems],
                )
            rows_revalidated += len(page)
        await connection.execute(sql("apply_revalidated_fields"), job_id)
        await connection.execute(sql("file_revalidated_row_issues"), job_id)
        await connection.execute(sql("resolve_fixed_row_issues"), job_id)
        outcome = await recheck(connection, job_id, job["user_id"])
    if outcome is None:
        log.info("reprocess_skipped", reason="the job left review meanwhile")
        return
    log.info(
        "reprocess_finished",
        status=outcome["status"],
        rows_revalidated=rows_revalidated,
        unresolved_issues=outcome["unresolved_issues"],
        seconds=round(time.monotonic() - started, 3),
    )
