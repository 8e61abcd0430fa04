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
from worker.model import Job
from worker.store.consolidation import consolidate

log = get_logger("worker.flows.consolidate")


async def run_consolidation(context: FlowContext) -> Job:
    """Consolidate ``context.job`` into its tenant's contacts; the job as it is left."""
    started = time.monotonic()
    outcome = await consolidate(context.pool, context.job)
    if outcome is None:
        raise JobGone(f"job {context.job_id} was no longer CONSOLIDATING; nothing was consolidated")
    job = outcome.job
    log.info(
        "consolidation_finished",
        status=job.status,
        contacts=outcome.contacts,
        unresolved_issues=job.unresolved_issues,
        seconds=round(time.monotonic() - started, 3),
        **{step: round(seconds, 3) for step, seconds in outcome.steps.items()},
    )
    return job
