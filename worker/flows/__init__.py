"""The flows a job is routed into.

The flow set is pluggable (``INGEST_FLOWS``, ``module:callable`` returning a
:class:`~worker.flows.base.Flows`); :func:`default_flows` is the product's own.
"""

from __future__ import annotations

import importlib
from dataclasses import replace
from typing import TYPE_CHECKING

from worker.errors import ConfigError
from worker.flows.base import FlowContext, FlowNotAvailable, Flows, Lease, run_flow
from worker.flows.consolidate import run_consolidation
from worker.flows.initial import run_initial
from worker.logs import get_logger
from worker.router import Route
from worker.store.jobs import fetch_job

if TYPE_CHECKING:
    from worker.settings import Settings

log = get_logger("worker.flows")

__all__ = [
    "FlowContext",
    "FlowNotAvailable",
    "Flows",
    "Lease",
    "default_flows",
    "load_flows",
    "run_flow",
]


class ProductFlows:
    """The product's flows. Flows not in this release fail the job with that reason, so
    it can be retried after an upgrade rather than looping."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def initial(self, context: FlowContext) -> None:
        """Read the file into staging rows and issues (see :mod:`worker.flows.initial`),
        then consolidate at once when nothing needs review. A worker that dies in between
        leaves the job CONSOLIDATING, which the next delivery routes to consolidation."""
        await run_initial(context)
        job = await fetch_job(context.pool, context.job_id)
        if job is not None and job["status"] == "CONSOLIDATING":
            context.checkpoint()
            await run_consolidation(replace(context, job=job, route=Route.CONSOLIDATE))

    async def reprocess(self, context: FlowContext) -> None:
        """Not in this release: the job is left as it is (NEEDS_REVIEW, for a person).

        Never fail it: at-least-once delivery can hand a job that just reached
        NEEDS_REVIEW its own ``process`` message again (a worker died after committing,
        before deleting), and that must end where an uninterrupted run ends."""
        log.warning(
            "reprocess_not_available",
            job_id=str(context.job_id),
            status=context.job["status"],
            reason="this release has no reprocessing flow; the job stays for review",
        )

    async def consolidate(self, context: FlowContext) -> None:
        """Move READY rows into contacts (see :mod:`worker.flows.consolidate`)."""
        await run_consolidation(context)


def default_flows(settings: Settings) -> Flows:
    """The product's flow set."""
    return ProductFlows(settings)


def load_flows(settings: Settings) -> Flows:
    """Build the flow set named by ``INGEST_FLOWS`` (``module:callable``)."""
    module_name, _, attribute = settings.flows.partition(":")
    if not module_name or not attribute:
        raise ConfigError(f"INGEST_FLOWS: expected module:callable, got {settings.flows!r}")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise ConfigError(f"INGEST_FLOWS: cannot load {settings.flows!r}: {error}") from error
    flows: Flows = factory(settings)
    return flows
