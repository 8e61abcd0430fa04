"""``/metrics``, ``/healthz`` and ``/readyz`` on the metrics port.

The server runs in the worker's own event loop, so a blocked loop cannot answer its
liveness probe either, which is what the probe is for.

- ``/healthz``: 200 while the receive loop is alive: it polled within
  ``INGEST_HEALTH_MAX_POLL_AGE_S``, or every slot is busy (then it has no reason to poll).
- ``/readyz``: 200 when the database and the queue answer within two seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from worker import metrics
from worker.errors import StartupCheckError
from worker.store.migrate import ping

if TYPE_CHECKING:
    import asyncpg

    from worker.daemon import Worker
    from worker.sqs import JobQueue

_READY_TIMEOUT_S = 2.0


class HealthServer:
    """The metrics and health endpoints of one worker process."""

    def __init__(
        self,
        worker: Worker,
        pool: asyncpg.Pool,
        queue: JobQueue,
        *,
        port: int,
        max_poll_age_s: float,
        host: str = "0.0.0.0",  # noqa: S104 - probes and scrapes come from outside the pod
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.worker = worker
        self.pool = pool
        self.queue = queue
        self.port = port
        self.host = host
        self.max_poll_age_s = max_poll_age_s
        # The worker's poll times are time.monotonic(); tests move this clock instead of
        # sleeping through the poll age.
        self.clock = clock
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen; StartupCheckError naming INGEST_METRICS_PORT if the port is taken."""
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as error:
            await self._runner.cleanup()
            raise StartupCheckError(
                "INGEST_METRICS_PORT", f"cannot listen on port {self.port}: {error}"
            ) from error

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def alive(self) -> tuple[bool, str]:
        """Whether the receive loop is alive, and why."""
        worker = self.worker
        if worker.free_slots == 0:
            return True, "all slots busy"
        last = worker.last_poll_monotonic or worker.started_monotonic
        if last is None:
            return False, "the receive loop has not started"
        age = self.clock() - last
        if age > self.max_poll_age_s:
            return False, f"no poll for {age:.0f} s (limit {self.max_poll_age_s:.0f} s)"
        return True, f"polled {age:.1f} s ago"

    async def _metrics(self, request: web.Request) -> web.Response:
        metrics.db_pool_connections.labels("open").set(self.pool.get_size())
        metrics.db_pool_connections.labels("idle").set(self.pool.get_idle_size())
        body = generate_latest()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _healthz(self, request: web.Request) -> web.Response:
        ok, reason = self.alive()
        return web.Response(status=200 if ok else 503, text=reason + "\n")

    async def _readyz(self, request: web.Request) -> web.Response:
        problems = []
        try:
            await asyncio.wait_for(ping(self.pool), _READY_TIMEOUT_S)
        except Exception as error:
            problems.append(f"database: {type(error).__name__}: {error}")
        try:
            await asyncio.wait_for(self.queue.ping(), _READY_TIMEOUT_S)
        except Exception as error:
            problems.append(f"queue: {type(error).__name__}: {error}")
        if problems:
            return web.Response(status=503, text="\n".join(problems) + "\n")
        return web.Response(text="ready\n")
