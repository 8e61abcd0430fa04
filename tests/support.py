"""What tests of every layer share: files to submit, a worker built from a test's services,
the one way to wait for something, and a job's state to compare runs by."""

from __future__ import annotations

import asyncio
import csv
import io
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from tests.conftest import CLI, ROOT, AwsResources, cli_env
from worker.daemon import Worker
from worker.flows import Flows, default_flows
from worker.flows.base import FlowContext
from worker.flows.initial import run_initial
from worker.messages import JobMessage
from worker.router import Route
from worker.services import Services
from worker.settings import Settings
from worker.store.jobs import create_job, fetch_job

TENANT = "tenant-1"

# A small file with one of each problem the initial flow files.
MIXED = [
    ["E-mail", "First Name", "Last Name", "Company", "Phone", "Notes"],
    ["ana@example.pt", "ANA", "SILVA", "Acme", "+351 912 345 678", "ok"],  # 2 valid
    ["bad-email", "Bo", "Ng", "Acme", "", ""],  # 3 invalid
    ["cy@example.pt", "", "Lo", "Acme", "", ""],  # 4 missing
    ["dup@example.pt", "Di", "Ek", "Acme", "", ""],  # 5 dup
    ["DUP@example.pt", "Ed", "Fo", "Acme", "", ""],  # 6 dup
    ["known@example.pt", "Fi", "Go", "Acme", "", ""],  # 7 existing
    ["both@example.pt", "Gu", "Ha", "Acme", "", ""],  # 8 dup+existing
    ["both@example.pt", "Hi", "Io", "Acme", "912345679", "second"],  # 9 dup+existing
    ["other@example.pt", "  jean   luc  ", "o'brien", "Acme,  Inc.", "", ""],  # 10 valid
]


def csv_bytes(rows: list[list[str]], delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    """The rows as a CSV file with CRLF line ends (UTF-8 unless said)."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def clean_file(rows: int) -> bytes:
    """A clean contacts file of ``rows`` rows (one unmapped column)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["email", "first_name", "last_name", "company", "city"])
    for index in range(rows):
        writer.writerow([f"p{index}@example.com", "Ana", "Silva", "Acme", "Lisboa"])
    return out.getvalue().encode("utf-8")


async def submit(
    services: Services,
    aws: AwsResources,
    data: bytes,
    key: str = "up/c.csv",
    *,
    tenant: str = TENANT,
    options: dict[str, Any] | None = None,
) -> uuid.UUID:
    """Upload ``data``, create its job and send its message, as a producer does."""
    aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=data)
    job_id = await create_job(
        services.pool, tenant=tenant, bucket=aws.bucket, key=key, options=options
    )
    await services.queue.send(JobMessage(job_id=job_id).body())
    return job_id


def new_worker(
    services: Services,
    flows: Flows | None = None,
    settings: Settings | None = None,
    **updates: Any,
) -> Worker:
    """A worker on the test's pool and clients: its settings (changed by ``updates``) and
    flows (the product's by default)."""
    chosen = settings or services.settings
    if updates:
        chosen = chosen.model_copy(update=updates)
    return Worker(
        chosen, services.pool, services.s3, services.queue, flows or default_flows(chosen)
    )


async def drain(
    services: Services,
    settings: Settings | None = None,
    flows: Flows | None = None,
    timeout_s: float = 120,
) -> None:
    """One worker runs until the queue is empty and nothing runs (``run --once``). It polls
    without waiting (short polls): the empty receive that ends it costs no second."""
    worker = new_worker(services, flows, settings, wait_time_s=0)
    await asyncio.wait_for(worker.run(once=True), timeout_s)


@asynccontextmanager
async def running(worker: Worker) -> AsyncIterator[asyncio.Task[None]]:
    """Run ``worker`` in the background; stop it (gracefully) on the way out."""
    task = asyncio.create_task(worker.run())
    try:
        yield task
    finally:
        worker.request_stop()
        await asyncio.wait_for(task, 60)


async def eventually(
    predicate: Callable[[], Any | Awaitable[Any]],
    timeout_s: float,
    what: str,
    interval_s: float = 0.1,
) -> None:
    """Wait until ``predicate()`` (awaited when it is a coroutine) is true; an
    AssertionError naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(interval_s)


async def job_status(pool: asyncpg.Pool, job_id: uuid.UUID) -> str | None:
    """The job's status, or None when there is no such job."""
    job = await fetch_job(pool, job_id)
    return job.status if job else None


async def job_status_is(pool: asyncpg.Pool, job_id: uuid.UUID, status: str) -> bool:
    """Whether the job is in ``status``."""
    return await job_status(pool, job_id) == status


async def snapshot(pool: asyncpg.Pool, job_id: uuid.UUID) -> dict[str, Any]:
    """Everything the initial flow decides, without ids and timestamps."""
    staging = await pool.fetch(
        "SELECT row_number, row_hash, raw, email, email_normalized, first_name, last_name,"
        " company, phone, phone_e164, status FROM staging WHERE job_id = $1 ORDER BY 1",
        job_id,
    )
    issues = await pool.fetch(
        "SELECT issue_key, type, field, message, resolved FROM issues WHERE job_id = $1"
        " ORDER BY issue_key",
        job_id,
    )
    items = await pool.fetch(
        "SELECT i.issue_key, ii.row_number FROM issue_items ii JOIN issues i ON i.id ="
        " ii.issue_id WHERE ii.job_id = $1 ORDER BY 1, 2",
        job_id,
    )
    job = await pool.fetchrow(
        "SELECT status, total_rows, processed_rows, valid_rows, issue_rows, unresolved_issues,"
        " checkpoint_row, source_sha256, source_size_bytes, bytes_read, detected_encoding,"
        " detected_dialect, column_mapping, header FROM jobs WHERE id = $1",
        job_id,
    )
    return {
        "staging": [tuple(r) for r in staging],
        "issues": [tuple(r) for r in issues],
        "items": [tuple(r) for r in items],
        "job": dict(job),
    }


def cli_worker(
    settings: Settings,
    *args: str,
    quiet: bool = False,
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    """``ingest-worker run ARGS`` as a process of its own (to be killed), with a short
    visibility timeout so that a killed worker's message comes back quickly;
    ``extra_env`` adds to (or overrides) its environment."""
    env = cli_env(
        settings,
        **{
            "INGEST_VISIBILITY_TIMEOUT_S": "2",
            "INGEST_WAIT_TIME_S": "1",
            "INGEST_BATCH_SIZE_ROWS": "2000",
            "INGEST_LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        },
    )
    return subprocess.Popen(
        [*CLI, "run", *args],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if quiet else subprocess.PIPE,
    )


async def consolidating_job(
    services: Services, aws: AwsResources, tenant: str, rows: int
) -> uuid.UUID:
    """A clean ``rows``-row job read and checked in-process: CONSOLIDATING, no message."""
    key = f"up/{uuid.uuid4().hex}.csv"
    aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=clean_file(rows))
    job_id = await create_job(services.pool, tenant=tenant, bucket=aws.bucket, key=key)
    job = await fetch_job(services.pool, job_id)
    assert job is not None
    await run_initial(
        FlowContext(
            job=job,
            route=Route.INITIAL,
            pool=services.pool,
            s3=services.s3,
            settings=services.settings,
            stopping=asyncio.Event(),
        )
    )
    return job_id


async def stranded_job(
    services: Services, aws: AwsResources, status: str = "PENDING", minutes: int = 20
) -> uuid.UUID:
    """A job whose message never came (a producer killed between its commit and its send),
    untouched for ``minutes``."""
    name = uuid.uuid4().hex
    key = f"uploads/t/{name}.csv"
    clean = f"email,first_name,last_name,company\r\n{name}@x.pt,Ana,Silva,Acme\r\n"
    aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=clean.encode())
    job_id = await create_job(services.pool, tenant="t", bucket=aws.bucket, key=key)
    await services.pool.execute(
        "UPDATE jobs SET status = $2, updated_at = now() - make_interval(mins => $3) WHERE id = $1",
        job_id,
        status,
        minutes,
    )
    return job_id


async def stops_cleanly(worker: subprocess.Popen[str], within_s: float = 15) -> None:
    """SIGTERM ``worker`` and wait, without blocking the event loop (a proxy in this loop
    may carry its goodbyes), until it exits with 0."""
    worker.send_signal(signal.SIGTERM)
    await eventually(lambda: worker.poll() is not None, within_s, "the worker to stop")
    assert worker.returncode == 0, f"the worker exited with {worker.returncode}"


def kill_if_running(worker: subprocess.Popen[str] | None) -> None:
    """SIGKILL ``worker`` if it is still running (a test's clean-up), and reap it."""
    if worker is not None and worker.poll() is None:
        worker.kill()
        worker.communicate(timeout=30)
