"""Flow sets for driving the daemon in tests, in-process or in a CLI subprocess
(``INGEST_FLOWS=tests.flows:slow_flows``).

They do real work against the real database: a finished flow marks its job COMPLETED, a slow
one sleeps in steps and calls ``checkpoint()`` between steps as a real flow does between
batches.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from worker.errors import ServiceUnavailable, UnsupportedFile
from worker.flows import FlowContext
from worker.settings import Settings

Behaviour = Callable[[FlowContext], Awaitable[None]]


async def complete(context: FlowContext) -> None:
    """Finish the job."""
    await context.pool.execute(
        "UPDATE jobs SET status = 'COMPLETED', finished_at = now() WHERE id = $1",
        context.job_id,
    )


def slow(seconds: float, step_s: float = 0.1) -> Behaviour:
    """Work for ``seconds`` in steps, with a checkpoint after each, then finish."""

    async def behaviour(context: FlowContext) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await asyncio.sleep(step_s)
            context.checkpoint()
        await complete(context)

    return behaviour


def fail_transiently(times: int) -> Behaviour:
    """Raise a transient error on the first ``times`` attempts, then finish."""

    async def behaviour(context: FlowContext) -> None:
        attempts = await context.pool.fetchval(
            "SELECT attempts FROM jobs WHERE id = $1", context.job_id
        )
        if attempts <= times:
            raise ServiceUnavailable(f"S3 answered 503 SlowDown (attempt {attempts})")
        await complete(context)

    return behaviour


async def fail_permanently(context: FlowContext) -> None:
    """Raise a permanent error."""
    raise UnsupportedFile("the file is a PNG image, not CSV or Excel")


@dataclass
class Call:
    """One flow invocation as the daemon made it."""

    job_id: Any
    route: str
    started: float
    attempts: int


@dataclass
class RecordingFlows:
    """Runs ``behaviour`` for every flow and records each call and the most ever running."""

    behaviour: Behaviour = complete
    calls: list[Call] = field(default_factory=list)
    running: int = 0
    most_running: int = 0

    async def _run(self, context: FlowContext) -> None:
        self.calls.append(
            Call(context.job_id, context.route.value, time.monotonic(), context.job.attempts)
        )
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await self.behaviour(context)
        finally:
            self.running -= 1

    async def initial(self, context: FlowContext) -> None:
        """Record and run the behaviour."""
        await self._run(context)

    async def reprocess(self, context: FlowContext) -> None:
        """Record and run the behaviour."""
        await self._run(context)

    async def consolidate(self, context: FlowContext) -> None:
        """Record and run the behaviour."""
        await self._run(context)

    async def export(self, context: FlowContext) -> None:
        """Record and run the behaviour."""
        await self._run(context)


def slow_flows(settings: Settings) -> RecordingFlows:
    """For CLI subprocesses: each flow takes ``TEST_FLOW_SECONDS`` (default 30)."""
    return RecordingFlows(slow(float(os.environ.get("TEST_FLOW_SECONDS", "30"))))


def stalling_flows(settings: Settings) -> RecordingFlows:
    """For CLI subprocesses: each flow holds one statement ``TEST_STALL_SECONDS`` (default
    4) with no progress meanwhile, then finishes."""
    seconds = float(os.environ.get("TEST_STALL_SECONDS", "4"))

    async def held_in_a_statement(context: FlowContext) -> None:
        context.checkpoint()
        await context.pool.execute("SELECT pg_sleep($1)", seconds)
        context.checkpoint()
        await complete(context)

    return RecordingFlows(held_in_a_statement)
