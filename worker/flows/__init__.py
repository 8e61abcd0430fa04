"""The flows a job is routed into.

The flow set is pluggable (``INGEST_FLOWS``, ``module:callable`` returning a
:class:`~worker.flows.base.Flows`); :func:`default_flows` is the product's own.
"""

from __future__ import annotations

import importlib
from dataclasses import replace
from typing import TYPE_CHECKING

from worker.errors import ConfigError, ExportFailed
from worker.flows.base import FlowContext, FlowNotAvailable, Flows, Lease, run_flow
from worker.flows.consolidate import run_consolidation
from worker.flows.export import write_exports
from worker.flows.initial import run_initial
from worker.flows.reprocess import run_reprocessing
from worker.logs import get_logger
from worker.model import Job, JobStatus
from worker.router import Route

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
    """The product's flows: initial and reprocessing end in a decision; a job that needs
    no review is consolidated in the same delivery; every decision that leaves the job
    with a person (NEEDS_REVIEW) or done (COMPLETED) writes its exports."""

    async def initial(self, context: FlowContext) -> None:
        """Read the file into staging rows and issues (see :mod:`worker.flows.initial`)."""
        await self._after_decision(context, await run_initial(context))

    async def reprocess(self, context: FlowContext) -> None:
        """Judge the reviewed rows again (see :mod:`worker.flows.reprocess`)."""
        decided = await run_reprocessing(context)
        if decided is not None:
            await self._after_decision(context, decided)

    async def consolidate(self, context: FlowContext) -> None:
        """Move READY rows into contacts (see :mod:`worker.flows.consolidate`)."""
        await run_consolidation(context)
        context.checkpoint()
        await self.export(context)

    async def export(self, context: FlowContext) -> None:
        """Write the exports of the job's last decision unless they are written (see
        :mod:`worker.flows.export`). An export that fails is recorded on the job and
        never changes the job's status: the sweep and ``jobs exports`` ask for it again.
        Any other failure (the database away before the claim, or when the failure was
        to be recorded) goes to the retry policy: the message must not be settled as
        done while its exports are neither written nor recorded as failed."""
        try:
            await write_exports(
                context.pool, context.s3, context.settings, context.job_id, context.checkpoint
            )
        except ExportFailed as error:
            log.error("export_not_written", job_id=str(context.job_id), reason=error.message)

    async def _after_decision(self, context: FlowContext, decided: Job) -> None:
        """Consolidate at once when nothing needs review, then export. A worker that dies
        in between leaves the job CONSOLIDATING (routed to consolidation) or decided
        without exports (written by the next delivery or request)."""
        context.checkpoint()
        if decided.status is JobStatus.CONSOLIDATING:
            await self.consolidate(replace(context, job=decided, route=Route.CONSOLIDATE))
        else:
            await self.export(context)


def default_flows(settings: Settings) -> Flows:
    """The product's flow set (its flows read the settings from their context)."""
    return ProductFlows()


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
