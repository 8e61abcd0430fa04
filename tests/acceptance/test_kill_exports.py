"""A worker killed while it writes a job's exports loses nothing.

A 120k-row job is read and checked in-process (CONSOLIDATING); a worker process then
consolidates it and starts its exports; it is SIGKILLed from outside once the first
multipart upload is open. The dead writer's claim must not block anything: ``jobs
exports`` sees the writer gone and asks again, the redelivered message's worker takes the
claim over, aborts the dead writer's uploads and writes the three files, recorded on the
job, with the bytes an uninterrupted export writes. The same for a job with issue rows,
whose three files come from one tagged stream (its message runs the initial flow, then
the exports of its NEEDS_REVIEW decision).
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
import uuid

import pytest

from tests.conftest import AwsResources, cli_env, make_settings, run_cli
from tests.support import cli_worker, consolidating_job, csv_bytes, eventually, submit
from worker.flows.export import write_exports
from worker.messages import JobMessage
from worker.services import Services, open_services
from worker.settings import Settings
from worker.store.jobs import fetch_job

pytestmark = pytest.mark.slow

ROWS = 120_000
TENANT = "tenant-x"


def _open_uploads(aws: AwsResources) -> list[str]:
    listed = aws.s3.list_multipart_uploads(Bucket=aws.bucket, Prefix="exports/")
    return [upload["Key"] for upload in listed.get("Uploads", [])]


def _file_bytes(aws: AwsResources, files: dict[str, dict[str, object]]) -> dict[str, bytes]:
    return {
        kind: aws.s3.get_object(Bucket=aws.bucket, Key=str(entry["key"]))["Body"].read()
        for kind, entry in files.items()
    }


async def test_sigkill_while_exports_are_written_then_the_next_worker_writes_them(
    database_url: str, aws: AwsResources
) -> None:
    settings = make_settings(database_url, aws)
    async with open_services(settings) as services:
        job_id = await consolidating_job(services, aws, TENANT, ROWS)
        await services.queue.send(JobMessage(job_id=job_id).body())
        await _kill_during_exports_then_finish(
            services, aws, settings, job_id, status="COMPLETED", rows=(ROWS, ROWS, 0)
        )


async def test_sigkill_while_a_review_jobs_exports_are_split_from_one_scan(
    database_url: str, aws: AwsResources
) -> None:
    # A job with issue rows gets its three files from one tagged stream (three uploads
    # open at once): killed mid-way, the next worker writes the same bytes.
    settings = make_settings(database_url, aws)
    rows = [["email", "first_name", "last_name", "company", "notes"]]
    for index in range(ROWS):
        email = "not-an-email" if index % 100 == 7 else f"p{index}@example.com"
        note = 'said "call me",\nthen left' if index % 50 == 3 else ""
        rows.append([email, "Ana", "Silva", "Acme", note])
    bad = ROWS // 100
    async with open_services(settings) as services:
        job_id = await submit(services, aws, csv_bytes(rows), tenant=TENANT)
        await _kill_during_exports_then_finish(
            services, aws, settings, job_id, status="NEEDS_REVIEW", rows=(ROWS, ROWS - bad, bad)
        )


async def _kill_during_exports_then_finish(
    services: Services,
    aws: AwsResources,
    settings: Settings,
    job_id: uuid.UUID,
    *,
    status: str,
    rows: tuple[int, int, int],
) -> None:
    """Run the job's message in a worker process, SIGKILL it once an export upload is
    open; then the exports must be asked for again, written by the next worker with the
    bytes an uninterrupted export writes, and nothing left in any queue."""
    worker = cli_worker(settings, quiet=True)
    try:

        def uploading() -> bool:
            assert worker.poll() is None, "the worker ended before its exports"
            return bool(_open_uploads(aws))

        await eventually(uploading, 120, "an export upload to open", interval_s=0.01)
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL
    job = await fetch_job(services.pool, job_id)
    assert job is not None and job.status == status
    assert job.exports["state"] == "writing"
    assert _open_uploads(aws)

    # The dead writer's claim died with its session: asking for the exports asks again.
    env = cli_env(settings)
    asked = run_cli(["jobs", "exports", str(job_id), "--json"], env)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["state"] == "abandoned" and answer["requested"] is True

    # The killed delivery's message comes back; one worker run finishes everything.
    finisher = cli_worker(settings, "--once", quiet=True)
    assert finisher.wait(timeout=180) == 0
    job = await fetch_job(services.pool, job_id)
    assert job is not None and job.exports["state"] == "written"
    files = job.exports["files"]
    assert sorted(files) == ["all", "issues", "valid"]
    assert (files["all"]["rows"], files["valid"]["rows"], files["issues"]["rows"]) == rows
    assert _open_uploads(aws) == []
    recovered = _file_bytes(aws, files)

    # Whichever of the two messages (the killed delivery's, the request) is left comes
    # back and changes nothing.
    deadline = time.monotonic() + 60
    while aws.counts(aws.queues.queue_url) != (0, 0):
        assert time.monotonic() < deadline, "a message never came back"
        if aws.counts(aws.queues.queue_url)[0]:
            again = cli_worker(settings, "--once", quiet=True)
            assert again.wait(timeout=120) == 0
        await asyncio.sleep(0.2)
    job = await fetch_job(services.pool, job_id)
    assert job is not None and job.exports["files"] == files
    dead = aws.sqs.receive_message(
        QueueUrl=aws.queues.dlq_url, MessageAttributeNames=["All"], AttributeNames=["All"]
    ).get("Messages", [])
    assert dead == []

    # The same bytes as an export nobody interrupted.
    await services.pool.execute("UPDATE jobs SET exports = '{}' WHERE id = $1", job_id)
    fresh = await write_exports(services.pool, services.s3, settings, job_id)
    assert fresh is not None
    assert _file_bytes(aws, fresh["files"]) == recovered
