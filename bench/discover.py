"""Discovery (dry run) over N objects on the S3 server.

    python bench/discover.py --objects 10000

A child process puts N objects named by the seed's extract convention (the ``indici``
preset, over 20 extraction batches in nested prefixes) into moto's S3 server; a second
child plans discovery over them (list with pagination, parse, validate, group into
batches, check which are already ingested) as ``ingest-worker discover --dry-run`` does,
and is measured alone: PostgreSQL and the S3 server run in processes of their own. Ends
with one line:
RESULT objects=N seconds=F objects_per_s=F peak_rss_mb=F
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # the bench folder is put on the path above
    bench_database,
    moto_server,
    peak_rss_mb,
    release_database,
    worker_settings,
)

BUCKET = "bench"
TYPES = ("Patients", "Appointments", "Providers", "Invoices", "Recalls", "Diagnoses")


def object_keys(count: int) -> list[str]:
    """``count`` extract files over 20 batches, in nested prefixes."""
    keys = []
    for index in range(count):
        extracted = datetime(2025, 8, 1, 8, 50, tzinfo=UTC) + timedelta(days=index % 20)
        date_to = extracted - timedelta(hours=3)
        date_from = date_to - timedelta(days=1)
        name = (
            f"685146545{TYPES[index % len(TYPES)]}_{date_from:%Y%m%d%H%M}_"
            f"{date_to:%Y%m%d%H%M}_{extracted:%y%m%d%H%M}"
        )
        keys.append(f"extracts/{extracted:%Y/%m/%d}/part-{index // 20:05d}/{name}")
    return keys


def put_objects(endpoint: str, count: int) -> None:
    """(Child process) create the bucket and the objects."""
    from worker.local import AwsEmulator

    s3 = AwsEmulator(server=None, endpoint_url=endpoint).client("s3")
    s3.create_bucket(Bucket=BUCKET)
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda key: s3.put_object(Bucket=BUCKET, Key=key, Body=b"x"), object_keys(count)
            )
        )


async def discover(database_url: str, endpoint: str) -> None:
    """(Child process, as the CLI) plan discovery as ``discover --dry-run`` does; print
    seconds, peak RSS and the plan's summary."""
    from contextlib import AsyncExitStack

    import asyncpg

    from worker.aws import open_clients
    from worker.discover import PRESETS, plan
    from worker.store.migrate import migrate
    from worker.store.pool import create_pool

    connection = await asyncpg.connect(database_url)
    try:
        await migrate(connection)
    finally:
        await connection.close()
    settings = worker_settings(database_url, endpoint, BUCKET)
    async with AsyncExitStack() as stack:
        pool = await create_pool(settings)
        stack.push_async_callback(pool.close)
        s3, _ = await open_clients(settings, stack)
        started = time.perf_counter()
        found = await plan(
            pool, s3, BUCKET, prefix="extracts/", pattern=PRESETS["indici"], tenant="bench"
        )
        seconds = time.perf_counter() - started
    print(f"DISCOVER {seconds:.3f} {peak_rss_mb():.1f} {found.summary()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--put", metavar="ENDPOINT", help=argparse.SUPPRESS)
    parser.add_argument("--plan", nargs=2, metavar=("ENDPOINT", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.put:
        put_objects(args.put, args.objects)
        return
    if args.plan:
        asyncio.run(discover(args.plan[1], args.plan[0]))
        return
    work = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    server, database_url, admin_url = bench_database(work)
    try:
        with moto_server() as endpoint:
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, __file__, "--objects", str(args.objects), "--put", endpoint],
                check=True,
            )
            print(f"put {args.objects} objects in {time.perf_counter() - started:.1f} s")
            planned = subprocess.run(
                [sys.executable, __file__, "--plan", endpoint, database_url],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            line = next(line for line in planned.splitlines() if line.startswith("DISCOVER "))
            _, seconds_text, rss_text, summary = line.split(" ", 3)
            seconds, rss = float(seconds_text), float(rss_text)
    finally:
        release_database(server, database_url, admin_url)
    print(summary)
    print(
        f"RESULT objects={args.objects} seconds={seconds:.2f} "
        f"objects_per_s={args.objects / seconds:.1f} peak_rss_mb={rss:.1f}"
    )


if __name__ == "__main__":
    main()
