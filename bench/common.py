"""What the bench scripts share: services in processes of their own, generated contact
files, and the peak RSS of the measuring process."""

from __future__ import annotations

import csv
import os
import random
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

CREDENTIALS = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}
REGION = "us-east-1"
HEADER = ["email", "first_name", "last_name", "company", "phone", "notes"]

FIRST = [
    "Ana",
    "João",
    "Zoë",
    "François",
    "Jørgen",
    "Inês",
    "Mary",
    "Li",
    "Ólafur",
    "Émilie",
    "JOSÉ",
    "maría",
    "Søren",
    "Łukasz",
    "Chloé",
]
LAST = [
    "Silva",
    "Gonçalves",
    "Müller",
    "O'Brien",
    "Lefèvre",
    "Ødegård",
    "Smith",
    "Nguyễn",
    "GARCÍA",
    "van der Berg",
    "Kowalski",
    "Dubois",
]
COMPANY = [
    "Acme, Inc.",
    "Lojas Ávila",
    "Société Générale",
    "Café Ñandú",
    "Initech",
    'Umbrella "Corp"',
    "Nørre Ltd",
    "Müller & Söhne GmbH",
    "Globex, S.A.",
]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, timeout_s: float = 30) -> None:
    """Wait until something listens on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's S3/SQS server in a process of its own; yields its endpoint URL."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Its CPU time is read by the bench's worker process (a child: it inherits this).
    os.environ["BENCH_S3_SERVER_PID"] = str(server.pid)
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.environ.pop("BENCH_S3_SERVER_PID", None)
        server.terminate()
        server.wait(10)


def write_contacts(
    path: Path,
    *,
    rows: int | None = None,
    megabytes: int | None = None,
    seed: int = 42,
    clean: bool = False,
) -> int:
    """Write a realistic contacts CSV (accents, quoted commas and newlines, ~2% bad emails,
    ~1% duplicate emails, ~1% blank required fields; with ``clean`` none of those problems)
    of ``rows`` rows or about ``megabytes`` MB; returns the number of data rows."""
    rng = random.Random(seed)
    target_bytes = (megabytes or 0) * 1_000_000
    written = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADER)
        while (rows is not None and written < rows) or (
            rows is None and handle.tell() < target_bytes
        ):
            block = []
            for _ in range(min(10_000, rows - written) if rows is not None else 10_000):
                written += 1
                roll = 1.0 if clean else rng.random()
                if roll < 0.01 and written > 1:
                    email = f"user{rng.randrange(1, written)}@example.com"  # duplicate
                elif roll < 0.03:
                    email = f"user{written}.example.com"  # invalid
                else:
                    email = f"user{written}@example.com"
                first = "" if not clean and rng.random() < 0.01 else rng.choice(FIRST)
                note = "call back\nafter 5pm" if rng.random() < 0.01 else ""
                block.append(
                    [
                        email,
                        first,
                        rng.choice(LAST),
                        rng.choice(COMPANY),
                        f"+351 91{written % 10_000_000:07d}",
                        note,
                    ]
                )
            writer.writerows(block)
    return written


def upload(endpoint: str, path: Path, bucket: str, key: str) -> None:
    """Upload ``path`` (multipart) to the S3 server."""
    import boto3
    from boto3.s3.transfer import TransferConfig

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **CREDENTIALS)
    with suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(path), bucket, key, Config=TransferConfig(multipart_chunksize=64 << 20))


def worker_settings(database_url: str, endpoint: str, bucket: str) -> Any:
    """Settings of a worker on the bench's services (an SQS client is opened, as a worker
    opens one, but no queue is used)."""
    from worker.settings import Settings

    return Settings(
        database_url=database_url,
        s3_bucket=bucket,
        s3_endpoint_url=endpoint,
        sqs_endpoint_url=endpoint,
        sqs_queue_url=f"{endpoint}/123456789012/unused",
        aws_region="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - the emulator's dummy key
        log_level=os.environ.get("BENCH_WORKER_LOG_LEVEL", "WARNING"),
        metrics_port=0,
    )


def create_queues(endpoint: str) -> tuple[str, str]:
    """A job queue and its DLQ on the S3/SQS server (boto3: not in the measured process)."""
    import uuid

    from worker.local import AwsEmulator, create_queue_pair

    pair = create_queue_pair(
        AwsEmulator(server=None, endpoint_url=endpoint).client("sqs"),
        f"bench-{uuid.uuid4().hex[:8]}",
    )
    return pair.queue_url, pair.dlq_url


async def timed_copy(database_url: str, table: str, setup: str, copy: str) -> float:
    """Seconds the server takes for ``copy`` into ``table``, created by ``setup`` and
    dropped after."""
    import asyncpg

    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(f"DROP TABLE IF EXISTS {table}; {setup}")
        started = time.perf_counter()
        await connection.execute(copy)
        seconds = time.perf_counter() - started
        await connection.execute(f"DROP TABLE {table}")
    finally:
        await connection.close()
    return seconds


def machine_cpu_s() -> float:
    """CPU seconds every process on this machine has used since boot (``/proc/stat``:
    user, nice, system, irq, softirq and steal; not idle or I/O wait). Its growth over a
    phase is the work the phase cost the whole box: the worker, PostgreSQL, the S3 server."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = stat.readline().split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user and system) process ``pid`` has used; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def contacts_floor(database_url: str, job_id: str, runs: int = 3) -> float:
    """Seconds the server takes to insert a job's contacts again, by itself, into an empty
    table made like ``contacts`` (the same identity, unique key and job index, logged):
    the least any consolidation of those rows can take on this server. The median of
    ``runs`` runs."""
    import statistics

    columns = "user_id, email, email_normalized, first_name, last_name, company, phone, extra"
    return statistics.median(
        [
            await timed_copy(
                database_url,
                "contacts_floor",
                "CREATE TABLE contacts_floor (LIKE contacts INCLUDING ALL)",
                f"INSERT INTO contacts_floor ({columns}, job_id) SELECT {columns}, job_id"
                f" FROM contacts WHERE job_id = '{job_id}' ORDER BY user_id, email_normalized",
            )
            for _ in range(runs)
        ]
    )


async def copy_floor(database_url: str, path: Path, runs: int = 3) -> float:
    """Seconds for the server's own COPY of the file into an unlogged text table: the
    median of ``runs`` runs (one run varies by 3x on this kind of machine)."""
    import statistics

    columns = ", ".join(f'"{name}" text' for name in HEADER)
    return statistics.median(
        [
            await timed_copy(
                database_url,
                "copy_floor",
                f"CREATE UNLOGGED TABLE copy_floor ({columns})",
                f"COPY copy_floor FROM '{path}' WITH (FORMAT csv, HEADER true)",
            )
            for _ in range(runs)
        ]
    )


def bench_database(work: Path) -> tuple[object | None, str, str | None]:
    """(embedded server or None, URL of a fresh database, admin URL to drop it after)."""
    import asyncio
    import os

    from worker.local import admin_execute, start_postgres, with_database

    external = os.environ.get("INGEST_BENCH_DATABASE_URL")
    if not external:
        server, url = start_postgres(work / "postgres", keep=False)
        return server, url, None
    # Never touch the server's own databases: a throwaway one, dropped at the end.
    name = f"ingest_bench_{os.getpid()}"
    asyncio.run(admin_execute(external, f'CREATE DATABASE "{name}"'))
    return None, with_database(external, name), external


def release_database(server: object | None, database_url: str, admin_url: str | None) -> None:
    """Stop the embedded server, or drop the throwaway database of an external one."""
    import asyncio

    from worker.local import admin_execute

    if server is not None:
        server.cleanup()  # type: ignore[attr-defined]
    if admin_url is not None:
        name = database_url.rsplit("/", 1)[-1].split("?", maxsplit=1)[0]
        asyncio.run(admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
