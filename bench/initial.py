"""The initial flow end to end against PostgreSQL's own COPY of the same file.

    python bench/initial.py --rows 1000000

Generates a realistic contacts file (see ``common.write_contacts``), uploads it to moto's
S3 server, and runs the initial flow through the daemon (job row, SQS message, worker; the
exports the product writes after the decision are left out: ``bench/export.py`` times them);
then, in the same run, times PostgreSQL's server-side ``COPY`` of the same file into an
unlogged table of text columns: the physical floor. It also prints, for context, the
server's own COPY of the validated rows as the flow staged them into a table like
``staging`` (its keys, logged): the floor of this schema. PostgreSQL (embedded by default,
``INGEST_BENCH_DATABASE_URL`` for another server on this machine) and the S3 server run in
processes of their own, the file is written by a child process and the flow runs in
another that imports and opens only what a worker does, so the peak RSS is the worker's
alone. Ends with one line:
RESULT rows=N flow_s=F copy_s=F ratio=F rows_per_s=F peak_rss_mb=F
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
    worker_settings,
    write_contacts,
)

BUCKET = "bench"
KEY = "uploads/bench/contacts.csv"


def prepare(endpoint: str, path: Path, rows: int) -> None:
    """(Child process) write the file and upload it."""
    write_contacts(path, rows=rows)
    upload(endpoint, path, BUCKET, KEY)


async def run_flow(
    database_url: str, endpoint: str, queues: tuple[str, str] | None = None
) -> tuple[float, dict[str, object]]:
    """The initial flow of one job, through the daemon; (seconds, the job row). With
    ``queues`` (job queue and DLQ URLs) it imports only what a worker does."""
    import asyncpg

    from worker.daemon import Worker
    from worker.flows import ProductFlows
    from worker.flows.base import FlowContext
    from worker.flows.initial import run_initial
    from worker.messages import JobMessage
    from worker.services import open_services
    from worker.store.jobs import create_job, fetch_job
    from worker.store.migrate import migrate

    class InitialOnlyFlows(ProductFlows):
        """The initial flow alone: no consolidation or exports after its decision."""

        async def initial(self, context: FlowContext) -> None:
            await run_initial(context)

    if queues is None:
        queues = create_queues(endpoint)
    settings = worker_settings(database_url, endpoint, BUCKET).model_copy(
        update={"sqs_queue_url": queues[0], "sqs_dlq_url": queues[1], "wait_time_s": 0}
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


def create_queues(endpoint: str) -> tuple[str, str]:
    """A job queue and its DLQ on the S3/SQS server (boto3: not in the measured process)."""
    from worker.local import AwsEmulator, create_queue_pair

    pair = create_queue_pair(
        AwsEmulator(server=None, endpoint_url=endpoint).client("sqs"),
        f"bench-{uuid.uuid4().hex[:8]}",
    )
    return pair.queue_url, pair.dlq_url


def flow_child(database_url: str, endpoint: str, queue_url: str, dlq_url: str) -> None:
    """(Child process, as a worker) run the flow; print seconds, peak RSS and the job."""
    seconds, job = asyncio.run(run_flow(database_url, endpoint, (queue_url, dlq_url)))
    counts = {
        name: job.get(name)
        for name in ("status", "total_rows", "valid_rows", "issue_rows", "unresolved_issues")
    }
    print(f"FLOW {seconds:.3f} {peak_rss_mb():.1f} {json.dumps(counts)}")


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


async def copy_floor(database_url: str, path: Path) -> float:
    """Seconds for the server's own COPY of the file into an unlogged text table."""
    columns = ", ".join(f'"{name}" text' for name in HEADER)
    return await timed_copy(
        database_url,
        "copy_floor",
        f"CREATE UNLOGGED TABLE copy_floor ({columns})",
        f"COPY copy_floor FROM '{path}' WITH (FORMAT csv, HEADER true)",
    )


async def staging_floor(database_url: str, work: Path) -> tuple[float, float]:
    """(Seconds, MB) of the server's own COPY of the job's validated rows, as the flow
    staged them, into a table like ``staging`` (its keys, logged): what storing them costs
    the server with no client at all. Informational; the RESULT line's ratio is the
    issue's, against the raw file."""
    import asyncpg

    from worker.store.staging import STAGING_COPY_COLUMNS

    export = work / "export"
    export.mkdir()
    export.chmod(0o777)  # written by the server's own user
    data = export / "staging.txt"
    columns = ", ".join(STAGING_COPY_COLUMNS)
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(f"COPY (SELECT {columns} FROM staging) TO '{data}'")
    finally:
        await connection.close()
    seconds = await timed_copy(
        database_url,
        "staging_floor",
        "CREATE TABLE staging_floor (LIKE staging INCLUDING ALL); CHECKPOINT",
        f"COPY staging_floor ({columns}) FROM '{data}'",
    )
    megabytes = data.stat().st_size / 1e6
    data.unlink()
    return seconds, megabytes


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
    parser.add_argument(
        "--flow", nargs=4, metavar=("URL", "ENDPOINT", "QUEUE", "DLQ"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.prepare:
        prepare(args.prepare[0], Path(args.prepare[1]), args.rows)
        return
    if args.flow:
        flow_child(*args.flow)
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
            flowed = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--flow",
                    database_url,
                    endpoint,
                    *create_queues(endpoint),
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            line = next(line for line in flowed.splitlines() if line.startswith("FLOW "))
            _, seconds_text, rss_text, job_json = line.split(" ", 3)
            flow_s, rss, job = float(seconds_text), float(rss_text), json.loads(job_json)
        copy_s = asyncio.run(copy_floor(database_url, path))
        floor_s, floor_mb = asyncio.run(staging_floor(database_url, work))
    finally:
        release_database(server, database_url, admin_url)
        path.unlink(missing_ok=True)
    print(
        f"job {job.get('status')}: {job.get('total_rows')} rows, {job.get('valid_rows')} "
        f"valid, {job.get('issue_rows')} with issues, {job.get('unresolved_issues')} open "
        "issues"
    )
    print(
        f"staging floor: the server's own COPY of the {floor_mb:.0f} MB of validated rows into "
        f"a table like staging (keys, WAL) takes {floor_s:.2f} s, "
        f"{floor_s / copy_s:.1f}x the raw file's COPY"
    )
    rows = int(job.get("total_rows") or 0)
    print(
        f"RESULT rows={rows} flow_s={flow_s:.2f} copy_s={copy_s:.2f} "
        f"ratio={flow_s / copy_s:.2f} rows_per_s={rows / flow_s:.1f} "
        f"peak_rss_mb={rss:.1f}"
    )


if __name__ == "__main__":
    main()
