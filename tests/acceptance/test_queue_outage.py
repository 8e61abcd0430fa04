"""The queue in the field, with workers run as ``ingest-worker run`` processes: its endpoint
away in the middle of a job or of a long poll, and duplicate copies of a long job's message.

The S3/SQS proxy lives in this test's event loop, so the test waits on the processes
without blocking it (``eventually``), never with a blocking ``wait``.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest

from tests.conftest import AwsResources, make_settings
from tests.outage import OutageProxy
from tests.support import (
    clean_file,
    cli_worker,
    eventually,
    kill_if_running,
    stops_cleanly,
    submit,
)
from worker.messages import JobMessage
from worker.services import open_services

pytestmark = pytest.mark.slow

ROWS = 60_000
OUTAGE_S = 8.0


@dataclass
class _Rig:
    """The queue's endpoint behind a proxy, a connection to watch jobs through, and the
    worker processes started (killed at the end if a test left them running)."""

    proxy: OutageProxy
    watch: Any
    workers: list[subprocess.Popen[str]] = field(default_factory=list)

    def worker(self, settings: Any, **kwargs: Any) -> subprocess.Popen[str]:
        """``ingest-worker run`` reaching the queue through the proxy."""
        proxied = settings.model_copy(update={"sqs_endpoint_url": self.proxy.url})
        self.workers.append(cli_worker(proxied, quiet=True, **kwargs))
        return self.workers[-1]


@contextlib.asynccontextmanager
async def _queue_behind_proxy(database_url: str, aws: AwsResources) -> AsyncIterator[_Rig]:
    proxy = OutageProxy(aws.emulator.endpoint_url)
    await proxy.up()
    watch = await asyncpg.connect(database_url)
    rig = _Rig(proxy, watch)
    try:
        yield rig
    finally:
        for worker in rig.workers:
            kill_if_running(worker)
        await watch.close()
        await proxy.down()


async def test_the_queue_away_mid_job_is_ridden_out(database_url: str, aws: AwsResources) -> None:
    async with _queue_behind_proxy(database_url, aws) as rig:
        proxy, watch = rig.proxy, rig.watch
        async with open_services(make_settings(database_url, aws)) as services:
            job_id = await submit(services, aws, clean_file(ROWS))
        worker = rig.worker(make_settings(database_url, aws))
        await eventually(
            lambda: watch.fetchval(
                f"SELECT checkpoint_row >= {ROWS // 10} FROM jobs WHERE id = $1", job_id
            ),
            60,
            "the job to be reading",
            interval_s=0.01,
        )
        await proxy.down()
        await asyncio.sleep(OUTAGE_S)
        assert worker.poll() is None, "the worker stopped during the queue's outage"
        await proxy.up()
        await eventually(
            lambda: aws.counts(aws.queues.queue_url) == (0, 0), 60, "the message to be settled"
        )
        job = await watch.fetchrow(
            "SELECT status, attempts, error, valid_rows, exports ->> 'state' AS exports"
            " FROM jobs WHERE id = $1",
            job_id,
        )
        # Once, completed, and no retry error left on it by the delete the outage failed.
        assert tuple(job) == ("COMPLETED", 1, None, ROWS, "written")
        assert (
            await watch.fetchval("SELECT count(*) FROM staging WHERE job_id = $1", job_id) == ROWS
        )
        assert (
            await watch.fetchval("SELECT count(*) FROM contacts WHERE job_id = $1", job_id) == ROWS
        )
        assert aws.counts(aws.queues.dlq_url) == (0, 0)
        assert worker.poll() is None
        await stops_cleanly(worker)


async def test_a_message_taken_by_a_poll_whose_answer_was_lost_is_not_hidden_for_long(
    database_url: str, aws: AwsResources
) -> None:
    # A long poll cut on its way back (the client sees a dropped connection) goes on at the
    # queue: a message sent meanwhile is received by that poll, and its answer is lost. The
    # message is invisible for the visibility it was received with; before, that was the
    # whole INGEST_VISIBILITY_TIMEOUT_S (300 s here: five minutes of a job not starting).
    async with _queue_behind_proxy(database_url, aws) as rig:
        proxy, watch = rig.proxy, rig.watch
        worker = rig.worker(
            make_settings(database_url, aws),
            extra_env={
                "INGEST_VISIBILITY_TIMEOUT_S": "300",
                "INGEST_WAIT_TIME_S": "20",
                "INGEST_RECEIVE_VISIBILITY_S": "3",
            },
        )
        loop = asyncio.get_running_loop()

        # A poll under way at the queue (sent at least half a second ago, still waiting).
        def polling() -> bool:
            sent = proxy.last_request(b"ReceiveMessage")
            return sent is not None and sent <= loop.time() - 0.5

        await eventually(polling, 60, "the worker to poll")
        await proxy.down()
        async with open_services(make_settings(database_url, aws)) as services:
            job_id = await submit(services, aws, clean_file(10))  # taken by the cut poll
        await asyncio.sleep(1)
        await proxy.up()
        await eventually(
            lambda: watch.fetchval("SELECT status = 'COMPLETED' FROM jobs WHERE id = $1", job_id),
            30,
            "the job to run soon after the queue is back",
        )
        assert worker.poll() is None
        await stops_cleanly(worker)


async def test_duplicates_of_a_long_job_wait_for_it_in_two_worker_processes(
    database_url: str, aws: AwsResources
) -> None:
    # The job runs 6 s; turned-away copies come back every 1 s; the queue dead-letters a
    # message on its 4th receive (3 x 1 s < 6 s): copies must not spend receives waiting.
    settings = make_settings(database_url, aws, lock_retry_delay_s=1)
    async with open_services(settings) as services:
        job_id = await submit(services, aws, clean_file(10))
        for _ in range(2):
            await services.queue.send(JobMessage(job_id=job_id).body())
        slow = {"INGEST_FLOWS": "tests.flows:slow_flows", "TEST_FLOW_SECONDS": "6"}
        workers = [cli_worker(settings, quiet=True, extra_env=slow) for _ in range(2)]
        try:
            await eventually(
                lambda: aws.counts(aws.queues.queue_url) == (0, 0), 60, "every copy settled"
            )
            job = await services.pool.fetchrow(
                "SELECT status, attempts FROM jobs WHERE id = $1", job_id
            )
            assert tuple(job) == ("COMPLETED", 1)  # one run: the copies never ran it again
            assert aws.counts(aws.queues.dlq_url) == (0, 0)
            for worker in workers:
                await stops_cleanly(worker)
        finally:
            for worker in workers:
                kill_if_running(worker)
