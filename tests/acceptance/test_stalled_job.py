"""A job held in one statement shows as stalled on a worker run as ``ingest-worker run``:
its metric and a log line naming the job, and not once it moves again."""

from __future__ import annotations

import signal
import socket

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import AwsResources, make_settings
from tests.support import clean_file, cli_worker, eventually, submit
from worker.services import open_services

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _stalled(port: int) -> float | None:
    """ingest_jobs_stalled as the worker's /metrics says (None while it does not answer)."""
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"http://127.0.0.1:{port}/metrics", timeout=aiohttp.ClientTimeout(total=2)
            ) as reply,
        ):
            text = await reply.text()
    except aiohttp.ClientError:
        return None
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "ingest_jobs_stalled":
                return float(sample.value)
    return None


async def test_a_job_held_in_a_statement_shows_as_stalled(
    database_url: str, aws: AwsResources
) -> None:
    settings = make_settings(database_url, aws)
    async with open_services(settings) as services:
        job_id = await submit(services, aws, clean_file(5))
    port = _free_port()
    worker = cli_worker(
        settings,
        extra_env={
            "INGEST_FLOWS": "tests.flows:stalling_flows",
            "TEST_STALL_SECONDS": "5",
            "INGEST_STALL_AFTER_S": "1",
            "INGEST_METRICS_PORT": str(port),
            "INGEST_METRICS_HOST": "127.0.0.1",
        },
    )
    try:
        await eventually(lambda: _stalled_is(port, 1), 20, "the job to show as stalled")
        await eventually(lambda: _stalled_is(port, 0), 20, "the stall to clear")
        worker.send_signal(signal.SIGTERM)
        await eventually(lambda: worker.poll() is not None, 15, "the worker to stop")
        _, log = worker.communicate(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate(timeout=30)
    assert worker.returncode == 0
    stalled = [line for line in log.splitlines() if '"job_stalled"' in line]
    assert stalled and str(job_id) in stalled[0] and '"phase": "initial"' in stalled[0]


async def _stalled_is(port: int, value: float) -> bool:
    return await _stalled(port) == value
