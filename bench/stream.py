"""Stream a generated CSV from the S3 server through the row source; report speed and memory.

    python bench/stream.py --mb 1000

moto's S3 server runs in a process of its own, and the file is generated and uploaded by
another, so the peak RSS printed is that of the reading process alone (the worker's part).
Ends with one line:
RESULT bytes=N rows=N rows_per_s=F peak_rss_mb=F
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUCKET = "bench"
KEY = "uploads/bench/contacts.csv"
CREDENTIALS = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}

FIRST = ["Ana", "João", "Zoë", "François", "Jørgen", "Inês", "Mary", "Li", "Ólafur", "Émilie"]
LAST = ["Silva", "Gonçalves", "Müller", "O'Brien", "Lefèvre", "Ødegård", "Smith", "Nguyễn"]
COMPANY = [
    "Acme, Inc.",
    "Lojas Ávila",
    "Société Générale",
    "Café Ñandú",
    "Initech",
    'Umbrella "Corp"',
    "Nørre Ltd",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def generate_and_upload(endpoint: str, megabytes: int) -> None:
    """(Child process) write a contacts CSV of ``megabytes`` MB and upload it."""
    import csv

    import boto3
    from boto3.s3.transfer import TransferConfig

    rng = random.Random(42)
    target = megabytes * 1_000_000
    with tempfile.NamedTemporaryFile(
        "w", suffix=".csv", newline="", encoding="utf-8", delete=False
    ) as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(["email", "first_name", "last_name", "company", "phone", "notes"])
        row = 0
        while handle.tell() < target:
            rows = []
            for _ in range(10_000):
                row += 1
                note = "call back\nafter 5pm" if row % 97 == 0 else ""
                rows.append(
                    [
                        f"user{row}@example.com",
                        rng.choice(FIRST),
                        rng.choice(LAST),
                        rng.choice(COMPANY),
                        f"+351 91{row % 10_000_000:07d}",
                        note,
                    ]
                )
            writer.writerows(rows)
        path = handle.name
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS)
    s3.create_bucket(Bucket=BUCKET)
    s3.upload_file(path, BUCKET, KEY, Config=TransferConfig(multipart_chunksize=64 << 20))
    os.unlink(path)


async def stream(endpoint: str) -> tuple[int, int, float]:
    """Read the object through the row source; (bytes, rows, seconds)."""
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    from worker.sources.rows import RowSource
    from worker.sources.s3 import ObjectStream, pin_object

    session = get_session()
    async with session.create_client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=AioConfig(s3={"addressing_style": "path"}),
        **CREDENTIALS,
    ) as s3:
        started = time.perf_counter()
        version = await pin_object(s3, BUCKET, KEY)
        source = await RowSource.open(ObjectStream(s3, version), batch_rows=5000)
        rows = 0
        async for batch in source.batches():
            rows += len(batch)
        seconds = time.perf_counter() - started
        return source.stream.bytes_read, rows, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=1000, help="size of the file in MB")
    parser.add_argument("--upload-only", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.upload_only:
        generate_and_upload(args.upload_only, args.mb)
        return

    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, str(Path(__file__)), "--mb", str(args.mb), "--upload-only", endpoint],
            check=True,
        )
        print(f"generated and uploaded {args.mb} MB in {time.perf_counter() - started:.1f} s")
        size, rows, seconds = asyncio.run(stream(endpoint))
    finally:
        server.terminate()
        server.wait(10)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"streamed {size} bytes, {rows} rows in {seconds:.2f} s ({size / seconds / 1e6:.1f} MB/s)"
    )
    print(
        f"RESULT bytes={size} rows={rows} rows_per_s={rows / seconds:.1f} "
        f"peak_rss_mb={peak_rss_mb:.1f}"
    )


if __name__ == "__main__":
    main()
