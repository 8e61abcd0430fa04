"""End to end: the CLI in a subprocess, stopped by signals as Kubernetes and ECS stop it."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
import uuid

import asyncpg
import pytest

from tests.conftest import CLI, ROOT, AwsResources, cli_env
from tests.support import eventually
from worker.cli.common import ExitCode
from worker.messages import JobMessage
from worker.settings import Settings
from worker.store.jobs import create_job

pytestmark = pytest.mark.slow


async def _job_with_message(settings: Settings, aws: AwsResources) -> uuid.UUID:
    connection = await asyncpg.connect(settings.database_url.get_secret_value())
    try:
        job_id = await create_job(
            connection, tenant="tenant-1", bucket=aws.bucket, key="uploads/big.csv"
        )
    finally:
        await connection.close()
    aws.sqs.send_message(
        QueueUrl=aws.queues.queue_url, MessageBody=JobMessage(job_id=job_id).body()
    )
    return job_id


async def _job(settings: Settings, job_id: uuid.UUID) -> asyncpg.Record:
    connection = await asyncpg.connect(settings.database_url.get_secret_value())
    try:
        return await connection.fetchrow("SELECT status, attempts FROM jobs WHERE id = $1", job_id)
    finally:
        await connection.close()


async def _wait_until_started(
    settings: Settings, job_id: uuid.UUID, process: subprocess.Popen[str], timeout_s: float = 30
) -> None:
    async def started() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"worker exited early: {process.communicate()}")
        return bool((await _job(settings, job_id))["attempts"] >= 1)

    await eventually(started, timeout_s, "the job to start", interval_s=0.2)


def _start(settings: Settings, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, "run", *args],
        cwd=ROOT,
        text=True,
        env=cli_env(settings, INGEST_FLOWS="tests.flows:slow_flows", **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


async def test_sigterm_during_a_long_job_releases_it_to_another_worker(
    settings: Settings, aws: AwsResources
) -> None:
    job_id = await _job_with_message(settings, aws)
    first = _start(settings, TEST_FLOW_SECONDS="120", INGEST_SHUTDOWN_GRACE_S="5")
    try:
        await _wait_until_started(settings, job_id, first)
        signalled = time.monotonic()
        first.send_signal(signal.SIGTERM)
        _, stderr = first.communicate(timeout=15)
        exited = time.monotonic()
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == ExitCode.OK, stderr
    assert exited - signalled < 5, "must exit within the grace period"
    assert '"event": "job_interrupted"' in stderr

    # Visible again within a second of the exit, not after the visibility timeout.
    deadline = time.monotonic() + 1.0
    while aws.counts(aws.queues.queue_url) != (1, 0):
        assert time.monotonic() < deadline, aws.counts(aws.queues.queue_url)
        await asyncio.sleep(0.05)
    assert (await _job(settings, job_id))["status"] == "PENDING"

    second = _start(settings, "--once", TEST_FLOW_SECONDS="0.5")
    _, stderr = second.communicate(timeout=60)
    assert second.returncode == ExitCode.OK, stderr
    job = await _job(settings, job_id)
    assert (job["status"], job["attempts"]) == ("COMPLETED", 2)
    assert aws.counts(aws.queues.queue_url) == (0, 0)


async def test_a_second_signal_exits_at_once_and_still_releases_the_message(
    settings: Settings, aws: AwsResources
) -> None:
    job_id = await _job_with_message(settings, aws)
    # A long grace period that the second signal must cut short.
    worker = _start(settings, TEST_FLOW_SECONDS="120", INGEST_SHUTDOWN_GRACE_S="60")
    try:
        await _wait_until_started(settings, job_id, worker)
        # The slow flow checkpoints every 0.1 s, so the first signal alone would stop it
        # quickly too; stop it between signals by sending both back to back.
        worker.send_signal(signal.SIGINT)
        worker.send_signal(signal.SIGINT)
        started = time.monotonic()
        _, stderr = worker.communicate(timeout=15)
        assert time.monotonic() - started < 5
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode in (ExitCode.OK, ExitCode.INTERRUPTED), stderr
    assert aws.counts(aws.queues.queue_url) == (1, 0)
    assert (await _job(settings, job_id))["status"] == "PENDING"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
async def test_an_idle_worker_stops_within_seconds_mid_long_poll(
    settings: Settings, aws: AwsResources, signum: int
) -> None:
    # A 20 s long poll in progress: the stop cancels it instead of waiting it out.
    worker = _start(settings, INGEST_WAIT_TIME_S="20", INGEST_LOG_FORMAT="json")
    try:
        deadline = time.monotonic() + 30
        while "worker_started" not in (worker.stderr.readline() if worker.stderr else ""):
            assert worker.poll() is None and time.monotonic() < deadline, "never started"
        await asyncio.sleep(1.5)  # inside the poll now
        signalled = time.monotonic()
        worker.send_signal(signum)
        _, stderr = worker.communicate(timeout=15)
        took = time.monotonic() - signalled
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == ExitCode.OK, stderr
    # The poll had ~18 s left: waiting it out (the old behaviour) takes far longer.
    assert took < 10, f"stopping took {took:.1f} s"
    assert "shutdown_requested" in stderr and "worker_stopped" in stderr
