"""The router: a job's status and whether it has staging rows decide its flow.

=================================  ===============  ==================================
job status                         staging rows     route
=================================  ===============  ==================================
COMPLETED                          yes              EXPORT (writes the exports if they
                                                    are missing for its last decision)
COMPLETED                          none             ACKNOWLEDGE (nothing to do)
CANCELLED                          any              ACKNOWLEDGE (nothing to do)
NEEDS_REVIEW                       yes              REPROCESS for a ``reprocess`` message
                                                    while its request is pending; else
                                                    EXPORT (writes missing exports only)
NEEDS_REVIEW                       none             ACKNOWLEDGE (nothing to review)
PENDING, PROCESSING                yes              INITIAL_RESUME (after the checkpoint)
PENDING, PROCESSING                none             INITIAL (from the start)
CONSOLIDATING                      any              CONSOLIDATE
FAILED                             any              ACKNOWLEDGE, unless the message is a
                                                    ``retry``: then as PENDING
=================================  ===============  ==================================

A ``reprocess`` message for a job that is not NEEDS_REVIEW follows the table: the job's
state, not the message, is the truth (a stale message never re-runs a finished job). An
``export`` message only ever exports: for a job in any other state it is acknowledged.
"""

from __future__ import annotations

import enum

from worker.model import JobAction, JobStatus


class Route(enum.Enum):
    """Where a job goes."""

    ACKNOWLEDGE = "acknowledge"
    INITIAL = "initial"
    INITIAL_RESUME = "initial_resume"
    REPROCESS = "reprocess"
    CONSOLIDATE = "consolidate"
    EXPORT = "export"

    @property
    def flow(self) -> str | None:
        """The flow's name for logs and metrics (``None`` when nothing runs)."""
        return {
            Route.ACKNOWLEDGE: None,
            Route.INITIAL: "initial",
            Route.INITIAL_RESUME: "initial",
            Route.REPROCESS: "reprocess",
            Route.CONSOLIDATE: "consolidate",
            Route.EXPORT: "export",
        }[self]


def route(
    status: JobStatus,
    has_staging: bool,
    action: JobAction = "process",
    reprocess_pending: bool = False,
) -> Route:
    """The route for a job in ``status``; ``action`` matters for a FAILED job (``retry``),
    for ``export``, and for ``reprocess`` (only while ``reprocess_pending``: a person asked
    after the job's last decision)."""
    try:
        status = JobStatus(status)
    except ValueError:
        raise ValueError(f"unknown job status {status!r}") from None
    if action == "export":
        exportable = status in (JobStatus.NEEDS_REVIEW, JobStatus.COMPLETED) and has_staging
        return Route.EXPORT if exportable else Route.ACKNOWLEDGE
    if status is JobStatus.FAILED:
        if action != "retry":
            return Route.ACKNOWLEDGE
        status = JobStatus.PENDING
    if status is JobStatus.COMPLETED:
        return Route.EXPORT if has_staging else Route.ACKNOWLEDGE
    if status is JobStatus.CANCELLED:
        return Route.ACKNOWLEDGE
    if status is JobStatus.NEEDS_REVIEW:
        if not has_staging:
            return Route.ACKNOWLEDGE
        return Route.REPROCESS if action == "reprocess" and reprocess_pending else Route.EXPORT
    if status in (JobStatus.PENDING, JobStatus.PROCESSING):
        return Route.INITIAL_RESUME if has_staging else Route.INITIAL
    return Route.CONSOLIDATE  # CONSOLIDATING
