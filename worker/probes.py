"""``ingest-worker check``: the start-up probes (is every service reachable with the configured
credentials?). Not to be confused with the cross-row checks of a job (``db/queries/checks.sql``)."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass

from worker.aws import open_clients
from worker.errors import StartupCheckError
from worker.services import check_bucket, check_schema
from worker.settings import Settings, redact_url
from worker.sqs import JobQueue
from worker.store.migrate import server_version
from worker.store.pool import create_pool


@dataclass(frozen=True)
class ProbeResult:
    """One check's outcome."""

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        """``ok   database  ...`` / ``FAIL queue     ...``: one line per check."""
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name:<9} {self.detail}"


async def run_probes(settings: Settings) -> list[ProbeResult]:
    """Check the database (and its schema), the bucket and the queues; never raises for a
    failed check, so that every line is printed."""
    results: list[ProbeResult] = []
    url = redact_url(settings.database_url.get_secret_value())
    async with AsyncExitStack() as stack:
        try:
            pool = await create_pool(
                settings.model_copy(update={"db_pool_min_size": 1, "db_pool_max_size": 2})
            )
            stack.push_async_callback(pool.close)
            server = await server_version(pool)
            version = await check_schema(pool, settings)
            results.append(
                ProbeResult(
                    "database", True, f"{url}: PostgreSQL {server}, schema version {version}"
                )
            )
        except StartupCheckError as error:
            results.append(ProbeResult("database", False, error.message))

        s3, sqs = await open_clients(settings, stack)
        try:
            await check_bucket(s3, settings)
            results.append(ProbeResult("bucket", True, f"s3://{settings.s3_bucket} is readable"))
        except StartupCheckError as error:
            results.append(ProbeResult("bucket", False, error.message))

        try:
            queue = await JobQueue.open(
                sqs, settings.sqs_queue_url, settings.sqs_dlq_url, settings.max_receive_count
            )
            results.append(
                ProbeResult(
                    "queue",
                    True,
                    f"{queue.queue_url} (gives up after {queue.max_receive_count} receives)",
                )
            )
            if queue.dlq_url:
                results.append(ProbeResult("dlq", True, queue.dlq_url))
            else:
                results.append(
                    ProbeResult(
                        "dlq",
                        False,
                        "INGEST_SQS_DLQ_URL: no dead-letter queue (set one, or give the queue a "
                        "redrive policy); unprocessable messages would only be logged",
                    )
                )
        except StartupCheckError as error:
            results.append(ProbeResult("queue", False, error.message))
    return results
