"""The initial flow end to end against PostgreSQL's own COPY of the same file.

    python bench/initial.py --rows 1000000

Generates a realistic contacts file (see ``common.write_contacts``), uploads it to moto's
S3 server, and runs the initial flow through the daemon (job row, SQS message, worker; the
exports the product writes after the decision are left out: ``bench/export.py`` times them);
then, in the same run, times PostgreSQL's server-side ``COPY`` of the same file into an
unlogged table of text columns: the physical floor. PostgreSQL (embedded by default,
``INGEST_BENCH_DATABASE_URL`` for another server on this machine) and the S3 server run in
processes of their own, and the file is written by a child process, so the peak RSS is the
worker's alone. Ends with one line:
RESULT rows=N flow_s=F copy_s=F ratio=F rows_per_s=F peak_rss_mb=F
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # the bench folder is put on the path just above
    HEADER,
    moto_server,
    peak_rss_mb,
    upload,
    write_contacts,
)

BUCKET = "bench"
KEY = "uploads/bench/contacts.csv"


def prepare(endpoint: str, path: Path, rows: int) -> None:
    """(Child process) write the file and upload it."""
    write_contacts(path, rows=rows)
    upload(endpoint, path, BUCKET, KEY)


async def run_flow(database_url: str, endpoint: str) -> tuple[float, dict[str, object]]:
    """The initial flow of one job, through the daemon; (seconds, the job row)."""
    import asyncpg

    from worker.daemon import Worker
    from worker.flows import ProductFlows
    from worker.flows.base import FlowContext
    from worker.flows.initial import run_initial

    class InitialOnlyFlows(ProductFlows):
        """The initial flow alone: no consolidation or exports after its decision."""

        async def initial(self, context: FlowContext) -> None:
            await run_initial(context)

    from worker.local import AwsEmulator, create_queue_pair, local_settings
    from worker.messages import JobMessage
    from worker.services import open_services
    from worker.store.jobs import create_job, fetch_job
    from worker.store.migrate import migrate

    aws = AwsEmulator(server=None, endpoint_url=endpoint)
    queues = create_queue_pair(aws.client("sqs"), f"bench-{uuid.uuid4().hex[:8]}")
    settings = local_settings(
        database_url, aws, BUCKET, queues, wait_time_s=0, log_level="WARNING", metrics_port=0
    )
    connection = await asyncpg.connect(database_url)
    try:
        await migrate(connection)
    finally:
        await connection.close()
    async with open_services(settings) as services:
        job_id = await create_job(services.pool, user_id="bench", bucket=BUCKET, key=KEY)
        await services.queue.send(JobMessage(job_id=job_id).body())
        worker = Worker(
            settings, services.pool, services.s3, services.queue, InitialOnlyFlows(settings)
        )
        started = time.perf_counter()
        await worker.run(once=True)
        seconds = time.perf_counter() - started
        job = await fetch_job(services.pool, job_id)
    return seconds, dict(job or {})


async def copy_floor(database_url: str, path: Path) -> float:
    """Seconds for the server's own COPY of the file into an unlogged text table."""
    import asyncpg

    columns = ", ".join(f'"{name}" text' for name in HEADER)
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            f"DROP TABLE IF EXISTS copy_floor; CREATE UNLOGGED TABLE copy_floor ({columns})"
        )
        started = time.perf_counter()
        await connection.execute(f"COPY copy_floor FROM '{path}' WITH (FORMAT csv, HEADER true)")
        seconds = time.perf_counter() - started
        await connection.execute("DROP TABLE copy_floor")
    finally:
        await connection.close()
    return seconds


def _database(work: Path) -> tuple[object | None, str, str | None]:
    """(embedded server or None, URL of a fresh database, admin URL to drop it after)."""
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
    from worker.local import admin_execute

    if server is not None:
        server.cleanup()  # type: ignore[attr-defined]
    if admin_url is not None:
        name = database_url.rsplit("/", 1)[-1].split("?", maxsplit=1)[0]
        asyncio.run(admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--prepare", nargs=2, metavar=("ENDPOINT", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        prepare(args.prepare[0], Path(args.prepare[1]), args.rows)
        return

    work = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    work.chmod(0o755)  # the PostgreSQL server reads the file for its own COPY
    path = work / "contacts.csv"
    server, database_url, admin_url = _database(work)
    try:
        with moto_server() as endpoint:
            started = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--rows",
                    str(args.rows),
                    "--prepare",
                    endpoint,
                    str(path),
                ],
                check=True,
            )
            path.chmod(0o644)
            print(
                f"generated and uploaded {args.rows} rows "
                f"({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s"
            )
            flow_s, job = asyncio.run(run_flow(database_url, endpoint))
        copy_s = asyncio.run(copy_floor(database_url, path))
    finally:
        release_database(server, database_url, admin_url)
        path.unlink(missing_ok=True)
    print(
        f"job {job.get('status')}: {job.get('total_rows')} rows, {job.get('valid_rows')} "
        f"valid, {job.get('issue_rows')} with issues, {job.get('unresolved_issues')} open "
        "issues"
    )
    rows = int(job.get("total_rows") or 0)  # type: ignore[call-overload]
    print(
        f"RESULT rows={rows} flow_s={flow_s:.2f} copy_s={copy_s:.2f} "
        f"ratio={flow_s / copy_s:.2f} rows_per_s={rows / flow_s:.1f} "
        f"peak_rss_mb={peak_rss_mb():.1f}"
    )


if __name__ == "__main__":
    main()
