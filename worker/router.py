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
from datetime import datetime
from typing import Literal

JobStatus = Literal[
    "PENDING", "PROCESSING", "NEEDS_REVIEW", "CONSOLIDATING", "COMPLETED", "FAILED", "CANCELLED"
]
Action = Literal["process", "reprocess", "retry", "export"]


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


def reprocess_pending(requested_at: datetime | None, decided_at: datetime | None) -> bool:
    """Whether a person asked for reprocessing after the job's last decision."""
    return requested_at is not None and (decided_at is None or requested_at > decided_at)


def route(
    status: str, has_staging: bool, action: Action = "process", reprocess_pending: bool = False
) -> Route:
    """The route for a job in ``status``; ``action`` matters for a FAILED job (``retry``),
    for ``export``, and for ``reprocess`` (only while ``reprocess_pending``: a person asked
    after the job's last decision)."""
    if action == "export":
        exportable = status in ("NEEDS_REVIEW", "COMPLETED") and has_staging
        return Route.EXPORT if exportable else Route.ACKNOWLEDGE
    if status == "FAILED":
        if action != "retry":
            return Route.ACKNOWLEDGE
        status = "PENDING"
    if status == "COMPLETED":
        return Route.EXPORT if has_staging else Route.ACKNOWLEDGE
    if status == "CANCELLED":
        return Route.ACKNOWLEDGE
    if status == "NEEDS_REVIEW":
        if not has_staging:
            return Route.ACKNOWLEDGE
        return Route.REPROCESS if action == "reprocess" and reprocess_pending else Route.EXPORT
    if status in ("PENDING", "PROCESSING"):
        return Route.INITIAL_RESUME if has_staging else Route.INITIAL
    if status == "CONSOLIDATING":
        return Route.CONSOLIDATE
    raise ValueError(f"unknown job status {status!r}")
