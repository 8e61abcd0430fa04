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
from worker.model import Job
from worker.store.reprocessing import Reprocessing
from worker.validation import RowValidator

log = get_logger("worker.flows.reprocess")


async def run_reprocessing(context: FlowContext) -> Job | None:
    """Re-validate ``context.job``'s edited live rows, check all of them, decide again;
    the job as decided, or None when it was not in review any more."""
    job_id = context.job_id
    validator = RowValidator.for_fields(job_id, context.job.options)
    started = time.monotonic()
    rows_revalidated = 0
    async with Reprocessing.open(context.pool, job_id) as reprocessing:
        if not isinstance(reprocessing, Reprocessing):
            # Someone else moved it on (cancelled, another delivery already decided).
            log.info("reprocess_skipped", status=reprocessing)
            return None
        async for numbers, fields in reprocessing.edited_rows(context.settings.batch_size_rows):
            revalidated, problems = validator.revalidate(numbers, fields)
            await reprocessing.stage(revalidated, problems)
            rows_revalidated += len(numbers)
        decided = await reprocessing.decide()
    if decided is None:
        log.info("reprocess_skipped", reason="the job left review meanwhile")
        return None
    log.info(
        "reprocess_finished",
        status=decided.status,
        rows_revalidated=rows_revalidated,
        unresolved_issues=decided.unresolved_issues,
        seconds=round(time.monotonic() - started, 3),
    )
    return decided
