"""The flows a job is routed into.

The flow set is pluggable (``INGEST_FLOWS``, ``module:callable`` returning a
:class:`~worker.flows.base.Flows`); :func:`default_flows` is the product's own.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from worker.errors import ConfigError
from worker.flows.base import FlowContext, FlowNotAvailable, Flows, Lease, run_flow
from worker.flows.initial import run_initial

if TYPE_CHECKING:
    from worker.settings import Settings

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
        """Read the file into staging rows and issues (see :mod:`worker.flows.initial`)."""
        await run_initial(context)

    async def reprocess(self, context: FlowContext) -> None:
        """Not in this release yet."""
        raise FlowNotAvailable("the reprocessing flow is not in this release of ingest-worker yet")

    async def consolidate(self, context: FlowContext) -> None:
        """Not in this release yet."""
        raise FlowNotAvailable("the consolidation flow is not in this release of ingest-worker yet")


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
