"""The container and process-manager files, checked with the real tools."""

from __future__ import annotations

import asyncio
import configparser
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import pytest

from tests.conftest import ROOT, AwsResources, cli_env
from worker.messages import JobMessage
from worker.settings import Settings
from worker.store.jobs import create_job

BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (it comes with the dev extra)")
    return found


def test_hadolint_passes_the_dockerfile() -> None:
    result = subprocess.run(
        [_tool("hadolint"), str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_as_a_non_root_user_with_a_healthcheck() -> None:
    lines = (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
    final_stage = lines[max(i for i, line in enumerate(lines) if line.startswith("FROM")) :]
    assert any(line.startswith("USER 10001") for line in final_stage)
    assert any(line.startswith("HEALTHCHECK") for line in final_stage)
    assert not any("build" in line and line.startswith("RUN pip") for line in final_stage)


def test_stopwaitsecs_outlasts_the_grace_period_and_the_long_poll() -> None:
    config = configparser.RawConfigParser()
    config.read(ROOT / "supervisord.conf")
    stop_wait = int(config["program:ingest-worker"]["stopwaitsecs"])
    defaults = Settings.model_fields
    assert stop_wait > float(defaults["shutdown_grace_s"].default) + int(
        defaults["wait_time_s"].default
    )


async def test_supervisord_runs_two_workers_and_sigterm_releases_their_messages(
    settings: Settings, aws: AwsResources
) -> None:
    supervisord = _tool("supervisord")
    connection = await asyncpg.connect(settings.database_url.get_secret_value())
    try:
        job_ids = [
            await create_job(connection, user_id="t", bucket=aws.bucket, key=f"k{i}")
            for i in range(2)
        ]
    finally:
        await connection.close()
    for job_id in job_ids:
        aws.sqs.send_message(
            QueueUrl=aws.queues.queue_url, MessageBody=JobMessage(job_id=job_id).body()
        )
    env = cli_env(
        settings,
        INGEST_PROCESSES="2",
        INGEST_METRICS_PORT_PREFIX=str(40 + uuid.uuid4().int % 20),
        INGEST_CONCURRENCY="1",
        INGEST_SHUTDOWN_GRACE_S="5",
        INGEST_FLOWS="tests.flows:slow_flows",
        TEST_FLOW_SECONDS="120",
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    # Popen returns at once; the test drives supervisord from outside, as an orchestrator.
    process = subprocess.Popen(  # noqa: ASYNC220
        [supervisord, "-c", str(ROOT / "supervisord.conf")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            connection = await asyncpg.connect(settings.database_url.get_secret_value())
            try:
                started = await connection.fetchval("SELECT count(*) FROM jobs WHERE attempts > 0")
            finally:
                await connection.close()
            if started == 2:
                break
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "the two workers never took both jobs"
            await asyncio.sleep(0.3)
        # One job each: a worker with concurrency 1 cannot hold both.
        assert aws.counts(aws.queues.queue_url) == (0, 2)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output
    assert output.count('"event": "worker_stopped"') == 2, output
    assert aws.counts(aws.queues.queue_url) == (2, 0)
