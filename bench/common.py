"""What the bench scripts share: services in processes of their own, generated contact
files, and the peak RSS of the measuring process."""

from __future__ import annotations

import csv
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
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


def write_contacts(
    path: Path, *, rows: int | None = None, megabytes: int | None = None, seed: int = 42
) -> int:
    """Write a realistic contacts CSV (accents, quoted commas and newlines, ~2% bad emails,
    ~1% duplicate emails, ~1% blank required fields) of ``rows`` rows or about
    ``megabytes`` MB; returns the number of data rows."""
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
                roll = rng.random()
                if roll < 0.01 and written > 1:
                    email = f"user{rng.randrange(1, written)}@example.com"  # duplicate
                elif roll < 0.03:
                    email = f"user{written}.example.com"  # invalid
                else:
                    email = f"user{written}@example.com"
                first = "" if rng.random() < 0.01 else rng.choice(FIRST)
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
        log_level="WARNING",
        metrics_port=0,
    )
