"""The enriched exports (all, valid, issues) of an N-row job, written to the S3 server.

    python bench/export.py --rows 1000000

A child process generates a realistic contacts file (``common.write_contacts``), uploads
it and runs the initial flow (the job ends NEEDS_REVIEW with its staging rows and issues,
no exports); this process then writes the job's three exports (one pass over staging,
multipart uploads) and is measured alone: PostgreSQL and the S3 server run in processes of
their own. Ends with one line:
RESULT rows=N export_s=F rows_per_s=F peak_rss_mb=F
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import moto_server, peak_rss_mb  # the bench folder is put on the path above
from initial import BUCKET, _database, prepare, run_flow


def stage(endpoint: str, database_url: str, path: Path, rows: int) -> None:
    """(Child process) write and upload the file, run the initial flow; print the job id."""
    prepare(endpoint, path, rows)
    _, job = asyncio.run(run_flow(database_url, endpoint))
    print(f"JOB {job['id']} {job['status']} {job['total_rows']}")


async def write(database_url: str, endpoint: str, job_id: uuid.UUID) -> tuple[float, dict]:
    """Seconds to write the job's exports, and what was recorded on the job."""
    from worker.flows.export import write_exports
    from worker.local import AwsEmulator, create_queue_pair, local_settings
    from worker.services import open_services

    aws = AwsEmulator(server=None, endpoint_url=endpoint)
    queues = create_queue_pair(aws.client("sqs"), f"bench-{uuid.uuid4().hex[:8]}")
    settings = local_settings(
        database_url, aws, BUCKET, queues, log_level="WARNING", metrics_port=0
    )
    async with open_services(settings) as services:
        print(f"before exporting: peak RSS {peak_rss_mb():.1f} MB (imports, clients, pool)")
        started = time.perf_counter()
        exports = await write_exports(services.pool, services.s3, settings, job_id)
        seconds = time.perf_counter() - started
    if exports is None:
        raise SystemExit("the job had its exports written already")
    return seconds, exports


def main() -> None:
    from worker.local import admin_execute

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--stage", nargs=3, metavar=("ENDPOINT", "URL", "PATH"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.stage:
        stage(args.stage[0], args.stage[1], Path(args.stage[2]), args.rows)
        return

    work = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    path = work / "contacts.csv"
    server, database_url, admin_url = _database(work)
    try:
        with moto_server() as endpoint:
            started = time.perf_counter()
            staged = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--rows",
                    str(args.rows),
                    "--stage",
                    endpoint,
                    database_url,
                    str(path),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            line = next(line for line in staged.stdout.splitlines() if line.startswith("JOB "))
            _, job_id, status, total = line.split()
            print(
                f"staged job {job_id} ({status}, {total} rows) in "
                f"{time.perf_counter() - started:.1f} s"
            )
            export_s, exports = asyncio.run(write(database_url, endpoint, uuid.UUID(job_id)))
    finally:
        if server is not None:
            server.cleanup()  # type: ignore[attr-defined]
        if admin_url is not None:
            name = database_url.rsplit("/", 1)[-1].split("?")[0]
            asyncio.run(admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        path.unlink(missing_ok=True)
    files = exports["files"]
    for kind, entry in files.items():
        print(f"{kind:<7} {entry['rows']} rows, {entry['size_bytes'] / 1e6:.1f} MB  {entry['key']}")
    rows = int(files["all"]["rows"])
    print(
        f"RESULT rows={rows} export_s={export_s:.2f} rows_per_s={rows / export_s:.1f} "
        f"peak_rss_mb={peak_rss_mb():.1f}"
    )


if __name__ == "__main__":
    main()
