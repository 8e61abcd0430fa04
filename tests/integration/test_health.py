"""Metrics and health endpoints against a real job, the real database and the S3/SQS server."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import AwsResources, make_settings
from tests.flows import RecordingFlows, complete, slow
from tests.outage import OutageProxy, database_proxy
from tests.support import MIXED, csv_bytes, eventually, new_worker, submit
from worker.daemon import Worker
from worker.flows import FlowContext, Flows, default_flows
from worker.health import HealthServer
from worker.local import admin_execute, with_database
from worker.messages import JobMessage
from worker.services import Services, open_services
from worker.settings import Settings
from worker.store.jobs import create_job
from worker.store.pool import POOL_CLOSE_TIMEOUT_S


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _get(port: int, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"http://127.0.0.1:{port}{path}", timeout=aiohttp.ClientTimeout(total=5)
        ) as reply,
    ):
        return reply.status, await reply.text()


async def _samples(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, text = await _get(port, "/metrics")
    assert status == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@asynccontextmanager
async def _serving(
    services: Services, flows: Flows, max_poll_age_s: float = 30
) -> AsyncIterator[tuple[Worker, int, asyncio.Task[None]]]:
    worker = new_worker(services, flows)
    port = _free_port()
    health = HealthServer(
        worker,
        services.pool,
        services.queue,
        port=port,
        max_poll_age_s=max_poll_age_s,
        host="127.0.0.1",
    )
    await health.start()
    task = asyncio.create_task(worker.run())
    try:
        yield worker, port, task
    finally:
        worker.request_stop()
        await asyncio.wait_for(task, 30)
        await health.stop()


async def test_metrics_move_by_the_right_amounts_during_and_after_a_job(
    services: Services, aws: AwsResources
) -> None:
    async with _serving(services, default_flows(services.settings)) as (_, port, _):
        before = await _samples(port)
        job_id = await submit(services, aws, csv_bytes(MIXED))
        for _ in range(100):
            after = await _samples(port)
            # The job is counted when its flow returns and the message is
            # deleted just after: wait for both, or the read races the delete.
            finished = _value(after, "ingest_jobs_total", flow="initial", outcome="ok") > _value(
                before, "ingest_jobs_total", flow="initial", outcome="ok"
            )
            deleted = _value(after, "ingest_messages_deleted_total") > _value(
                before, "ingest_messages_deleted_total"
            )
            if finished and deleted:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"job {job_id} never finished")

    def moved(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert moved("ingest_messages_received_total") == 1
    assert moved("ingest_messages_deleted_total") == 1
    assert moved("ingest_jobs_total", flow="initial", outcome="ok") == 1
    assert moved("ingest_rows_read_total") == 9
    assert moved("ingest_rows_staged_total") == 9
    assert moved("ingest_issues_total", type="INVALID_EMAIL") == 1
    assert moved("ingest_issues_total", type="MISSING_FIELD") == 1
    assert moved("ingest_s3_read_bytes_total") == len(csv_bytes(MIXED))
    assert moved("ingest_job_duration_seconds_count", flow="initial") == 1
    assert _value(after, "ingest_last_poll_timestamp_seconds") > 0


async def test_a_job_held_in_a_slow_statement_shows_as_stalled(
    database_url: str, aws: AwsResources
) -> None:
    settings = make_settings(database_url, aws, stall_after_s=1.0)

    async def slow_statement(context: FlowContext) -> None:
        context.checkpoint()
        await context.pool.execute("SELECT pg_sleep(4)")  # no checkpoint meanwhile
        context.checkpoint()
        await complete(context)

    async with (
        open_services(settings) as services,
        _serving(services, RecordingFlows(slow_statement)) as (_, port, _),
    ):
        job_id = await create_job(services.pool, tenant="t", bucket=aws.bucket, key="k")
        await services.queue.send(JobMessage(job_id=job_id).body())

        async def stalled_becomes(expected: float, what: str) -> None:
            for _ in range(100):
                if _value(await _samples(port), "ingest_jobs_stalled") == expected:
                    return
                await asyncio.sleep(0.1)
            raise AssertionError(what)

        await stalled_becomes(1, "the job never showed as stalled")
        await stalled_becomes(0, "the job still shows as stalled after it finished")


async def test_in_flight_and_free_slots_while_a_job_runs(
    services: Services, aws: AwsResources
) -> None:
    flows = RecordingFlows(slow(3))
    async with _serving(services, flows) as (_, port, _):
        job_id = await create_job(services.pool, tenant="t", bucket=aws.bucket, key="k")
        await services.queue.send(JobMessage(job_id=job_id).body())
        for _ in range(100):
            if flows.running:
                break
            await asyncio.sleep(0.05)
        during = await _samples(port)
        assert _value(during, "ingest_jobs_in_flight") == 1
        assert _value(during, "ingest_slots_free") == services.settings.concurrency - 1


async def test_healthz_fails_when_the_loop_stops_polling(
    services: Services, aws: AwsResources
) -> None:
    worker = new_worker(services, RecordingFlows())
    port = _free_port()
    skew = [0.0]  # seconds the probe's clock is ahead of the worker's
    health = HealthServer(
        worker,
        services.pool,
        services.queue,
        port=port,
        max_poll_age_s=1.5,
        host="127.0.0.1",
        clock=lambda: time.monotonic() + skew[0],
    )
    await health.start()
    try:
        status, text = await _get(port, "/healthz")
        assert status == 503 and "not started" in text
        task = asyncio.create_task(worker.run())
        await eventually(lambda: worker.last_poll_monotonic is not None, 10, "a poll")
        status, text = await _get(port, "/healthz")
        assert status == 200, text
        # The receive loop ends (stuck, crashed or stopped): polls stop, the probe fails
        # once the last poll is older than the limit (the clock moved on, not slept).
        worker.request_stop()
        await asyncio.wait_for(task, 30)
        skew[0] = 2.0
        status, text = await _get(port, "/healthz")
        assert status == 503 and "no poll for" in text
    finally:
        await health.stop()


async def test_readyz_fails_when_the_database_goes_away(
    postgres_admin_url: str, template_database: str, aws: AwsResources
) -> None:
    name = f"ingest_ready_{uuid.uuid4().hex[:12]}"
    await admin_execute(
        postgres_admin_url, f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"'
    )
    settings = make_settings(with_database(postgres_admin_url, name), aws)
    async with (
        open_services(settings) as services,
        _serving(services, RecordingFlows()) as (_, port, _),
    ):
        assert await _get(port, "/readyz") == (200, "ready\n")
        await admin_execute(postgres_admin_url, f'DROP DATABASE "{name}" WITH (FORCE)')
        status, text = await _get(port, "/readyz")
        assert status == 503
        assert text.startswith("database:")


async def test_healthz_fails_when_a_poll_hangs(database_url: str, aws: AwsResources) -> None:
    proxy = OutageProxy(aws.emulator.endpoint_url)
    await proxy.up()
    settings = make_settings(database_url, aws, sqs_endpoint_url=proxy.url)
    try:
        async with open_services(settings) as services:
            worker = new_worker(services, RecordingFlows(), settings)
            port = _free_port()
            health = HealthServer(
                worker, services.pool, services.queue, port=port, max_poll_age_s=2, host="127.0.0.1"
            )
            await health.start()
            task = asyncio.create_task(worker.run())
            try:
                await asyncio.sleep(1.5)
                assert (await _get(port, "/healthz"))[0] == 200
                proxy.stall()  # the next receive never comes back
                await asyncio.sleep(4)
                status, text = await _get(port, "/healthz")
                assert status == 503 and "no poll for" in text
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                await health.stop()
    finally:
        await proxy.down()


async def test_a_stopping_worker_does_not_wait_forever_on_a_silent_database(
    database_url: str, aws: AwsResources
) -> None:
    # The path to PostgreSQL goes silent (no reset, no answer): closing the services says
    # goodbye to each connection and would wait for the server's answer forever.
    proxy, proxied_url = database_proxy(database_url)
    await proxy.up()
    try:
        settings = make_settings(proxied_url(), aws, db_pool_min_size=2)
        closing = asyncio.ensure_future(_open_then_stall(settings, proxy))
        started = time.monotonic()
        done, _ = await asyncio.wait({closing}, timeout=POOL_CLOSE_TIMEOUT_S + 10)
        assert done, "closing the services hung on the silent connections"
        closing.result()
        assert time.monotonic() - started < POOL_CLOSE_TIMEOUT_S + 5
    finally:
        await proxy.down()


async def _open_then_stall(settings: Settings, proxy: OutageProxy) -> None:
    async with open_services(settings) as services:
        assert await services.pool.fetchval("SELECT 1") == 1
        proxy.stall()
