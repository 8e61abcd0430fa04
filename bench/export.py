"""The enriched exports (all, valid, issues) of an N-row job, written to the S3 server.

    python bench/export.py --rows 1000000

A child process generates a realistic contacts file (``common.write_contacts``), uploads
it and runs the initial flow (the job ends NEEDS_REVIEW with its staging rows and issues,
no exports); a second child, importing and opening only what a worker does, writes the
job's three exports (one pass over staging, multipart uploads) and reports its time and
peak RSS: PostgreSQL and the S3 server run in processes of their own. Ends with one line:
RESULT rows=N export_s=F rows_per_s=F peak_rss_mb=F
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # the bench folder is put on the path above
    moto_server,
    peak_rss_mb,
    worker_settings,
)
from initial import BUCKET, _database, prepare, release_database, run_flow


def stage(endpoint: str, database_url: str, path: Path, rows: int) -> None:
    """(Child process) write and upload the file, run the initial flow; print the job."""
    prepare(endpoint, path, rows)
    _, job = asyncio.run(run_flow(database_url, endpoint))
    print(f"JOB {job['id']} {job['status']} {job['total_rows']}")


async def write(database_url: str, endpoint: str, job_id: uuid.UUID) -> None:
    """(Child process, as a worker) write the job's exports; print seconds, peak RSS and
    what was recorded. Imports only what a worker imports."""
    from contextlib import AsyncExitStack

    from worker.aws import open_clients
    from worker.flows.export import write_exports
    from worker.store.pool import create_pool

    settings = worker_settings(database_url, endpoint, BUCKET)
    async with AsyncExitStack() as stack:
        pool = await create_pool(settings)
        stack.push_async_callback(pool.close)
        s3, _ = await open_clients(settings, stack)
        print(f"before exporting: peak RSS {peak_rss_mb():.1f} MB (imports, clients, pool)")
        started = time.perf_counter()
        exports = await write_exports(pool, s3, settings, job_id)
        seconds = time.perf_counter() - started
    if exports is None:
        raise SystemExit("the job had its exports written already")
    print(f"EXPORT {seconds:.3f} {peak_rss_mb():.1f} {json.dumps(exports['files'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--stage", nargs=3, metavar=("ENDPOINT", "URL", "PATH"), help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--export", nargs=3, metavar=("ENDPOINT", "URL", "JOB"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.stage:
        stage(args.stage[0], args.stage[1], Path(args.stage[2]), args.rows)
        return
    if args.export:
        asyncio.run(write(args.export[1], args.export[0], uuid.UUID(args.export[2])))
        return

    work = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    path = work / "contacts.csv"
    server, database_url, admin_url = _database(work)
    try:
        with moto_server() as endpoint:
            started = time.perf_counter()
            staged = _child("--rows", str(args.rows), "--stage", endpoint, database_url, str(path))
            _, job_id, status, total = _line(staged, "JOB ").split()
            print(
                f"staged job {job_id} ({status}, {total} rows) in "
                f"{time.perf_counter() - started:.1f} s"
            )
            exported = _child("--export", endpoint, database_url, job_id)
            print(_line(exported, "before exporting"))
            _, seconds, rss, files_json = _line(exported, "EXPORT ").split(" ", 3)
    finally:
        release_database(server, database_url, admin_url)
        path.unlink(missing_ok=True)
    files = json.loads(files_json)
    for kind, entry in files.items():
        print(f"{kind:<7} {entry['rows']} rows, {entry['size_bytes'] / 1e6:.1f} MB  {entry['key']}")
    rows = int(files["all"]["rows"])
    export_s = float(seconds)
    print(
        f"RESULT rows={rows} export_s={export_s:.2f} rows_per_s={rows / export_s:.1f} "
        f"peak_rss_mb={float(rss):.1f}"
    )


def _child(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, __file__, *args], check=False, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"{args[2]} failed:\n{done.stderr}")
    return done.stdout


def _line(output: str, prefix: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(prefix))


if __name__ == "__main__":
    main()
