"""A worker killed at any instant loses nothing and duplicates nothing.

The same 200k-row job is run once without interruption (the reference), reset, then run
by worker processes that are each killed with SIGKILL at a random moment, 20 times, and
finally left to finish. The staging rows, issues, issue links and counters must equal the
reference exactly.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import random
import signal
import subprocess
import time
import uuid

import asyncpg
import pytest

from tests.conftest import AwsResources, make_settings
from tests.support import cli_worker, eventually, snapshot
from worker.local import create_queue_pair
from worker.messages import JobMessage
from worker.store.jobs import create_job

pytestmark = pytest.mark.slow

ROWS = 200_000
KILLS = 20


def _contacts_file(rows: int) -> bytes:
    rng = random.Random(7)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["email", "first_name", "last_name", "company", "notes"])
    for index in range(rows):
        email = f"person{index % (rows - 2000)}@example.com"  # ~1% duplicates
        if index % 53 == 0:
            email = f"broken{index}.example.com"
        company = "" if index % 71 == 0 else rng.choice(["Acme, Inc.", "Initech", "Nørre"])
        note = "line one\nline two" if index % 97 == 0 else ""
        writer.writerow([email, rng.choice(["Ana", "Zoë", "JOÃO"]), "Silva", company, note])
    return out.getvalue().encode("utf-8")


async def _reset(pool: asyncpg.Pool, job_id: uuid.UUID) -> None:
    await pool.execute("DELETE FROM issues WHERE job_id = $1", job_id)
    await pool.execute("DELETE FROM staging WHERE job_id = $1", job_id)
    await pool.execute(
        "UPDATE jobs SET status = 'PENDING', checkpoint_row = 0, processed_rows = 0,"
        " total_rows = NULL, valid_rows = 0, issue_rows = 0, unresolved_issues = 0,"
        " bytes_read = 0, source_sha256 = NULL WHERE id = $1",
        job_id,
    )


async def _checkpoint_moves(
    pool: asyncpg.Pool, job_id: uuid.UUID, before: int, worker: subprocess.Popen[str]
) -> None:
    """Wait until the job's checkpoint passes ``before`` or it leaves PROCESSING (the
    message may stay invisible for a visibility timeout after the previous kill)."""

    async def moved() -> bool:
        if worker.poll() is not None:
            return True  # the worker ended: nothing more will move
        job = await pool.fetchrow("SELECT status, checkpoint_row FROM jobs WHERE id = $1", job_id)
        return bool(
            job["checkpoint_row"] > before or job["status"] not in ("PENDING", "PROCESSING")
        )

    with contextlib.suppress(AssertionError):  # a kill is due after 30 s whatever happened
        await eventually(moved, 30, "the checkpoint to move", interval_s=0.01)


async def test_sigkill_at_twenty_random_moments_changes_nothing(
    database_url: str, aws: AwsResources
) -> None:
    # Every killed delivery counts as a receive: this queue must outlast 20 of them.
    queues = create_queue_pair(
        aws.sqs, f"kills-{uuid.uuid4().hex[:10]}", max_receive_count=100, visibility_timeout_s=2
    )
    settings = make_settings(
        database_url, aws, sqs_queue_url=queues.queue_url, sqs_dlq_url=queues.dlq_url
    )
    aws.s3.put_object(Bucket=aws.bucket, Key="up/big.csv", Body=_contacts_file(ROWS))
    pool = await asyncpg.create_pool(
        settings.database_url.get_secret_value(), min_size=1, max_size=2
    )
    try:
        await pool.execute(
            "INSERT INTO contacts (user_id, email, email_normalized)"
            " VALUES ('tenant-1', 'person5@example.com', 'person5@example.com')"
        )
        job_id = await create_job(pool, tenant="tenant-1", bucket=aws.bucket, key="up/big.csv")
        body = JobMessage(job_id=job_id).body()

        aws.sqs.send_message(QueueUrl=queues.queue_url, MessageBody=body)
        reference_run = cli_worker(settings, "--once")
        _, stderr = reference_run.communicate(timeout=300)
        assert reference_run.returncode == 0, stderr
        reference = await snapshot(pool, job_id)
        assert reference["job"]["status"] == "NEEDS_REVIEW"
        assert reference["job"]["total_rows"] == ROWS

        await _reset(pool, job_id)
        aws.sqs.send_message(QueueUrl=queues.queue_url, MessageBody=body)
        rng = random.Random(2026)
        checkpoints = []
        for kill in range(KILLS):
            before = await pool.fetchval("SELECT checkpoint_row FROM jobs WHERE id = $1", job_id)
            worker = cli_worker(settings, quiet=True)
            if kill % 4 == 0:
                # During start-up, before or while the worker takes the message.
                await asyncio.sleep(rng.uniform(0.2, 3.0))
            else:
                # Mid-job: once this worker has committed a batch, within the next few.
                await _checkpoint_moves(pool, job_id, before, worker)
                await asyncio.sleep(rng.uniform(0.0, 0.08))
            worker.send_signal(signal.SIGKILL)
            worker.wait(30)
            checkpoints.append(
                await pool.fetchval("SELECT checkpoint_row FROM jobs WHERE id = $1", job_id)
            )
            # Every staged row is a whole batch: the checkpoint's rows and no others.
            staged = await pool.fetchval("SELECT count(*) FROM staging WHERE job_id = $1", job_id)
            assert staged in (0, checkpoints[-1] - 1, ROWS)

        # The last killed delivery stays invisible for up to the visibility timeout; keep
        # draining until the job has finished.
        deadline = time.monotonic() + 240
        while await pool.fetchval("SELECT status FROM jobs WHERE id = $1", job_id) in (
            "PENDING",
            "PROCESSING",
        ):
            assert time.monotonic() < deadline, "the job never finished after the kills"
            finisher = cli_worker(settings, "--once")
            _, stderr = finisher.communicate(timeout=300)
            assert finisher.returncode == 0, stderr
        final = await snapshot(pool, job_id)
    finally:
        await pool.close()

    # The kills landed mid-job, not only before or after it.
    assert sum(0 < checkpoint < ROWS for checkpoint in checkpoints) >= KILLS // 2, checkpoints
    assert final == reference
