"""What a flow is handed, the protocol of a flow set, and the dispatch from a route.

A flow gets a :class:`FlowContext` and must call :meth:`FlowContext.checkpoint` after each
committed unit of work (a batch): that is where a shutdown or a lost lease stops it, with
everything before the checkpoint safely stored and nothing after it half-written.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

from worker.errors import Interrupted, PermanentError
from worker.model import Job
from worker.router import Route

if TYPE_CHECKING:
    import asyncpg
    from types_aiobotocore_s3 import S3Client

    from worker.settings import Settings


@dataclass
class Lease:
    """The right to run one job: lost when the message's visibility can no longer be
    extended (another worker may then receive it). It also keeps when the flow last made
    progress (a checkpoint), which tells a stalled job from a long one."""

    lost_reason: str | None = None
    last_progress: float = field(default_factory=time.monotonic)

    def lose(self, reason: str) -> None:
        """Mark the lease lost; the flow stops at its next checkpoint."""
        self.lost_reason = self.lost_reason or reason


@dataclass
class FlowContext:
    """What a flow works with: the job, the services, and the stop conditions."""

    job: Job
    route: Route
    pool: asyncpg.Pool
    s3: S3Client
    settings: Settings
    stopping: asyncio.Event
    lease: Lease = field(default_factory=Lease)

    @property
    def job_id(self) -> UUID:
        """The job's id."""
        return self.job.id

    def checkpoint(self) -> None:
        """Raise Interrupted if the worker is shutting down or the lease was lost; call it
        after each commit, never inside a transaction."""
        self.lease.last_progress = time.monotonic()
        if self.lease.lost_reason is not None:
            raise Interrupted(f"lease lost: {self.lease.lost_reason}")
        if self.stopping.is_set():
            raise Interrupted("worker shutting down")


class Flows(Protocol):
    """The set of flows the router dispatches to."""

    async def initial(self, context: FlowContext) -> None:
        """Read the file (from the start, or after the checkpoint) into staging and issues."""

    async def reprocess(self, context: FlowContext) -> None:
        """Re-validate staging rows after a person reviewed them."""

    async def consolidate(self, context: FlowContext) -> None:
        """Move READY rows into contacts and complete the job."""

    async def export(self, context: FlowContext) -> None:
        """Write the job's enriched exports if they are missing for its last decision."""


async def run_flow(flows: Flows, context: FlowContext) -> None:
    """Dispatch ``context.route`` to its flow."""
    if context.route in (Route.INITIAL, Route.INITIAL_RESUME):
        await flows.initial(context)
    elif context.route is Route.REPROCESS:
        await flows.reprocess(context)
    elif context.route is Route.CONSOLIDATE:
        await flows.consolidate(context)
    elif context.route is Route.EXPORT:
        await flows.export(context)
    else:
        raise ValueError(f"route {context.route} runs no flow")


class FlowNotAvailable(PermanentError):
    """This release of the worker does not include the flow the job needs."""
