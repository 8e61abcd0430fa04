"""PostgreSQL away in the middle of a job's life, with the worker as ``ingest-worker run``.

The worker reaches PostgreSQL through a TCP proxy that refuses new connections and cuts
the open ones. It goes away twice in one job: while the file is read, and once the job is
COMPLETED but before its exports are written. The job completes by itself, every row
staged and imported once, its exports written; nothing reaches the dead-letter queue, and
the worker stays up and stops when asked. The outages are scaled down for the suite (3 s,
retries from 1 s, the production default of five receives); ``bench/outage.py`` runs the
same with a minute of outage and the default settings.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import asyncpg
import pytest

from tests.conftest import AwsResources, make_settings
from tests.outage import database_proxy
from tests.support import (
    clean_file,
    cli_worker,
    eventually,
    kill_if_running,
    stops_cleanly,
    submit,
)
from worker.local import create_queue_pair
from worker.services import open_services

pytestmark = pytest.mark.slow

ROWS = 60_000
OUTAGE_S = 3.0


async def test_a_job_rides_out_the_database_going_away_twice(
    database_url: str, aws: AwsResources
) -> None:
    queues = create_queue_pair(
        aws.sqs, f"outage-{uuid.uuid4().hex[:12]}", max_receive_count=5, visibility_timeout_s=30
    )
    resources = dataclasses.replace(aws, queues=queues)
    proxy, proxied_url = database_proxy(database_url)
    await proxy.up()
    watch = await asyncpg.connect(database_url)  # not through the proxy
    worker = None
    try:
        settings = make_settings(proxied_url(), resources, retry_base_delay_s=1)
        async with open_services(make_settings(database_url, resources)) as services:
            job_id = await submit(services, resources, clean_file(ROWS))
        worker = cli_worker(settings, quiet=True)

        async def reached(query: str) -> bool:
            assert worker.poll() is None, "the worker ended"
            return bool(await watch.fetchval(query, job_id))

        # 1. While the file is read: a tenth of it staged.
        await eventually(
            lambda: reached(f"SELECT checkpoint_row >= {ROWS // 10} FROM jobs WHERE id = $1"),
            60,
            "the job to be reading",
            interval_s=0.01,
        )
        await proxy.down()
        read_so_far = await watch.fetchval("SELECT checkpoint_row FROM jobs WHERE id = $1", job_id)
        await asyncio.sleep(OUTAGE_S)
        await proxy.up()
        assert read_so_far < ROWS

        # 2. Completed, its exports not written yet.
        await eventually(
            lambda: reached("SELECT status = 'COMPLETED' FROM jobs WHERE id = $1"),
            90,
            "the job to complete",
            interval_s=0.005,
        )
        await proxy.down()
        exports_then = await watch.fetchval(
            "SELECT exports ->> 'state' FROM jobs WHERE id = $1", job_id
        )
        await asyncio.sleep(OUTAGE_S)
        await proxy.up()
        assert exports_then != "written", "the exports were written before the outage"

        await eventually(
            lambda: reached("SELECT exports ->> 'state' = 'written' FROM jobs WHERE id = $1"),
            90,
            "the exports to be written",
        )
        job = await watch.fetchrow(
            "SELECT status, valid_rows, (exports -> 'files' -> 'all' ->> 'rows')::int AS all_rows,"
            " (exports -> 'files' -> 'valid' ->> 'rows')::int AS valid_rows_exported"
            " FROM jobs WHERE id = $1",
            job_id,
        )
        assert tuple(job) == ("COMPLETED", ROWS, ROWS, ROWS)
        assert (
            await watch.fetchval("SELECT count(*) FROM staging WHERE job_id = $1", job_id) == ROWS
        )
        assert (
            await watch.fetchval("SELECT count(*) FROM contacts WHERE job_id = $1", job_id) == ROWS
        )
        assert resources.counts(queues.dlq_url) == (0, 0)
        assert worker.poll() is None, "the worker ended"
        # Waited for without blocking this loop: the proxy in it carries the worker's
        # goodbye to PostgreSQL (a blocking wait here froze the proxy and so the close).
        await stops_cleanly(worker)
    finally:
        kill_if_running(worker)
        await watch.close()
        await proxy.down()
        for url in (queues.queue_url, queues.dlq_url):
            aws.sqs.delete_queue(QueueUrl=url)
