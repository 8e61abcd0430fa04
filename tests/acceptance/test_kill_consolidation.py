"""A worker process killed during consolidation leaves either nothing of it or everything.

A 100k-row job is read and checked (CONSOLIDATING), then a worker process is SIGKILLed
from outside while its consolidation's INSERT into contacts runs: no contact and no
SUCCESS row may remain. A second worker then consolidates all of it, and the same message
delivered once more changes nothing.
"""

from __future__ import annotations

import signal
import uuid

import asyncpg
import pytest

from tests.conftest import AwsResources, make_settings
from tests.support import cli_worker, consolidating_job, eventually
from worker.messages import JobMessage
from worker.services import open_services
from worker.store.jobs import fetch_job

pytestmark = pytest.mark.slow

ROWS = 100_000
TENANT = "tenant-k"


async def _wait_for(pool: asyncpg.Pool, query: str, expected: bool, timeout_s: float) -> None:
    async def holds() -> bool:
        return bool(await pool.fetchval(query)) is expected

    # Polled closely: the kill must land while the INSERT runs.
    await eventually(holds, timeout_s, f"{query!r} to be {expected}", interval_s=0.005)


_INSERTING = (
    "SELECT count(*) > 0 FROM pg_stat_activity WHERE datname = current_database()"
    " AND state = 'active' AND query LIKE '%INSERT INTO contacts%'"
    " AND pid <> pg_backend_pid()"
)
# The killed worker's backend ends (and rolls back) once its statement is done.
_LOCKS_HELD = "SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory'"


async def _state(pool: asyncpg.Pool, job_id: uuid.UUID) -> tuple[str, int, int]:
    job = await fetch_job(pool, job_id)
    assert job is not None
    contacts = await pool.fetchval("SELECT count(*) FROM contacts WHERE user_id = $1", TENANT)
    success = await pool.fetchval(
        "SELECT count(*) FROM staging s JOIN jobs j ON j.id = s.job_id"
        " WHERE s.job_id = $1 AND ingest_row_status(s.status, j.status) = 'SUCCESS'",
        job_id,
    )
    return job.status, contacts, success


async def test_sigkill_during_consolidation_leaves_nothing_then_everything(
    database_url: str, aws: AwsResources
) -> None:
    settings = make_settings(database_url, aws)
    async with open_services(settings) as services:
        job_id = await consolidating_job(services, aws, TENANT, ROWS)
        assert await _state(services.pool, job_id) == ("CONSOLIDATING", 0, 0)

        await services.queue.send(JobMessage(job_id=job_id).body())
        worker = cli_worker(settings, quiet=True)
        try:
            await _wait_for(services.pool, _INSERTING, True, timeout_s=60)
            worker.send_signal(signal.SIGKILL)
        finally:
            worker.wait(timeout=30)
        assert worker.returncode == -signal.SIGKILL
        await _wait_for(services.pool, _LOCKS_HELD, False, timeout_s=60)
        assert await _state(services.pool, job_id) == ("CONSOLIDATING", 0, 0)

        # The message comes back after its visibility timeout; a new worker finishes it.
        await eventually(
            lambda: aws.counts(aws.queues.queue_url)[0] > 0, 30, "the message to come back", 0.2
        )
        finisher = cli_worker(settings, "--once", quiet=True)
        assert finisher.wait(timeout=120) == 0
        assert await _state(services.pool, job_id) == ("COMPLETED", ROWS, ROWS)

        # Delivered once more (at least once): nothing is written twice.
        await services.queue.send(JobMessage(job_id=job_id).body())
        again = cli_worker(settings, "--once", quiet=True)
        assert again.wait(timeout=120) == 0
        assert await _state(services.pool, job_id) == ("COMPLETED", ROWS, ROWS)
        distinct = await services.pool.fetchval(
            "SELECT count(DISTINCT email_normalized) FROM contacts WHERE user_id = $1", TENANT
        )
        assert distinct == ROWS
