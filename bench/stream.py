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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # the bench folder is put on the path just above
    CREDENTIALS,
    moto_server,
    peak_rss_mb,
    upload,
    write_contacts,
)

BUCKET = "bench"
KEY = "uploads/bench/contacts.csv"


def generate_and_upload(endpoint: str, megabytes: int) -> None:
    """(Child process) write a contacts CSV of about ``megabytes`` MB and upload it."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "contacts.csv"
        write_contacts(path, megabytes=megabytes)
        upload(endpoint, path, BUCKET, KEY)


async def stream(endpoint: str) -> tuple[int, int, float]:
    """Read the object through the row source; (bytes, rows, seconds)."""
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    from worker.sources.s3 import ObjectStream, pin_object
    from worker.sources.source import open_source

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
        source = await open_source(ObjectStream(s3, version), batch_rows=5000)
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

    with moto_server() as endpoint:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, str(Path(__file__)), "--mb", str(args.mb), "--upload-only", endpoint],
            check=True,
        )
        print(f"generated and uploaded {args.mb} MB in {time.perf_counter() - started:.1f} s")
        size, rows, seconds = asyncio.run(stream(endpoint))
    print(
        f"streamed {size} bytes, {rows} rows in {seconds:.2f} s ({size / seconds / 1e6:.1f} MB/s)"
    )
    print(
        f"RESULT bytes={size} rows={rows} rows_per_s={rows / seconds:.1f} "
        f"peak_rss_mb={peak_rss_mb():.1f}"
    )


if __name__ == "__main__":
    main()
