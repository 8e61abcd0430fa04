"""A job's whole life, timed by phase, in production's steady state.

    python bench/pipeline.py --rows 1000000

Steady state: before anything is measured, a first job (another tenant, ``--steady-rows``
rows with problems) is imported to NEEDS_REVIEW and the database is ``ANALYZE``d, as
autovacuum would have done: the measured jobs' rows are then newer than any statistics,
as in production. Then, through the daemon (job rows, SQS messages, a worker):

- a clean file of N rows: the initial flow, consolidation, and the three exports written;
- a file of N rows with ~5 % issue rows: the initial flow, 1 % of its rows edited through
  ``Review`` (fixing invalid emails first), the remaining issue rows discarded in one
  statement (what a person does with many discards; not timed), then reprocessing, and the
  consolidation it leads to.

In the same run, PostgreSQL's own ``COPY`` of the clean file into an unlogged text table
(the median of three runs) is the baseline. PostgreSQL (embedded by default,
``INGEST_BENCH_DATABASE_URL`` for another server on this machine) and the S3/SQS server run
in processes of their own; the files are written by a child process, and the worker runs
in another that imports and opens only what a worker does, so the peak RSS is the worker's
alone. Ends with one line:

RESULT rows=N copy_s=F initial_s=F consolidate_s=F export_s=F reprocess_s=F
initial_ratio=F job_ratio=F peak_rss_mb=F

(on one line), where ``job_ratio`` is the clean file's initial + consolidation + export
over ``copy_s``. Before it, the floors, against the same ``copy_s``: the worker's (the
initial flow's own Python work on the clean file: read from disk, validate, encode as COPY
data, with no database), the server's (the clean job's contacts inserted again by the
server alone into an empty table made like ``contacts``), and the machine's CPU seconds
over each phase (every process, and of it the worker's and the S3 server's) with the least
wall time that work could take on this machine's cores, with and without the S3 server's
share (production's S3 runs elsewhere).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # the bench folder is put on the path just above
    bench_database,
    contacts_floor,
    copy_floor,
    create_queues,
    machine_cpu_s,
    moto_server,
    peak_rss_mb,
    process_cpu_s,
    release_database,
    upload,
    worker_settings,
    write_contacts,
)

BUCKET = "bench"
FILES = {
    "steady": "uploads/steady.csv",
    "clean": "uploads/clean.csv",
    "problem": "uploads/problem.csv",
}


def prepare(endpoint: str, work: Path, rows: int, steady_rows: int) -> None:
    """(Child process) write the three files and upload them."""
    write_contacts(work / "steady.csv", rows=steady_rows, seed=7)
    write_contacts(work / "clean.csv", rows=rows, clean=True)
    write_contacts(work / "problem.csv", rows=rows, seed=11)
    for name, key in FILES.items():
        upload(endpoint, work / f"{name}.csv", BUCKET, key)


async def run_jobs(database_url: str, endpoint: str, queues: tuple[str, str]) -> dict[str, Any]:
    """(The worker process) the three jobs through the daemon; the phases' seconds."""
    import asyncpg

    from worker.daemon import Worker
    from worker.flows import ProductFlows
    from worker.flows.base import FlowContext
    from worker.flows.consolidate import run_consolidation
    from worker.flows.export import write_exports
    from worker.flows.initial import run_initial
    from worker.flows.reprocess import run_reprocessing
    from worker.messages import JobMessage
    from worker.review import Review
    from worker.router import Route
    from worker.services import open_services
    from worker.store.jobs import create_job, fetch_job
    from worker.store.migrate import migrate

    phases: dict[str, float] = {}
    cpu: dict[str, float] = {}  # the machine's CPU seconds over each phase
    own: dict[str, float] = {}  # this (the worker's) process's CPU seconds over each phase
    s3_server: dict[str, float] = {}  # the S3/SQS server's (absent in production)
    s3_pid = int(os.environ.get("BENCH_S3_SERVER_PID", "0"))

    def own_cpu_s() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    class TimedFlows(ProductFlows):
        """The product's flows, each phase timed under the job's name."""

        def __init__(self, names: dict[Any, str]) -> None:
            super().__init__()
            self.names = names

        async def _timed(self, context: FlowContext, phase: str, step: Any) -> Any:
            started, used, mine = time.perf_counter(), machine_cpu_s(), own_cpu_s()
            served = process_cpu_s(s3_pid) if s3_pid else 0.0
            result = await step
            key = f"{self.names[context.job_id]}.{phase}"
            phases[key] = phases.get(key, 0.0) + time.perf_counter() - started
            cpu[key] = cpu.get(key, 0.0) + machine_cpu_s() - used
            own[key] = own.get(key, 0.0) + own_cpu_s() - mine
            if s3_pid:
                s3_server[key] = s3_server.get(key, 0.0) + process_cpu_s(s3_pid) - served
            return result

        async def initial(self, context: FlowContext) -> None:
            decided = await self._timed(context, "initial", run_initial(context))
            await self._after_decision(context, decided)

        async def reprocess(self, context: FlowContext) -> None:
            decided = await self._timed(context, "reprocess", run_reprocessing(context))
            if decided is not None:
                await self._after_decision(context, decided)

        async def consolidate(self, context: FlowContext) -> None:
            await self._timed(context, "consolidate", run_consolidation(context))
            await self.export(replace(context, route=Route.EXPORT))

        async def export(self, context: FlowContext) -> None:
            step = write_exports(
                context.pool, context.s3, context.settings, context.job_id, context.checkpoint
            )
            await self._timed(context, "export", step)

    settings = worker_settings(database_url, endpoint, BUCKET).model_copy(
        update={
            "sqs_queue_url": queues[0],
            "sqs_dlq_url": queues[1],
            "wait_time_s": 0,
        }
    )
    connection = await asyncpg.connect(database_url)
    try:
        await migrate(connection)
    finally:
        await connection.close()
    names: dict[Any, str] = {}
    flows = TimedFlows(names)
    async with open_services(settings) as services:

        async def run(name: str, tenant: str) -> Any:
            job_id = await create_job(services.pool, tenant=tenant, bucket=BUCKET, key=FILES[name])
            names[job_id] = name
            await services.queue.send(JobMessage(job_id=job_id).body())
            await drain()
            return job_id

        async def drain() -> None:
            worker = Worker(settings, services.pool, services.s3, services.queue, flows)
            await worker.run(once=True)

        steady = await run("steady", "earlier-tenant")
        await services.pool.execute("ANALYZE")
        clean = await run("clean", "bench")
        problem = await run("problem", "bench-2")

        # 1 % of the rows edited through Review: the invalid emails fixed first, then
        # other rows' first names.
        job = await fetch_job(services.pool, problem)
        if job is None:
            raise SystemExit("the problem job vanished")
        edits = int(job.total_rows) // 100
        targets = await services.pool.fetch(
            "SELECT row_number, email_normalized IS NULL AND status = 'ISSUE' AS invalid,"
            " first_name FROM staging WHERE job_id = $1"
            " ORDER BY email_normalized IS NULL AND status = 'ISSUE' DESC, status = 'ISSUE',"
            " row_number LIMIT $2",
            problem,
            edits,
        )
        review = Review(services.pool, "bench-2", "bench", services.queue)
        started = time.perf_counter()
        for target in targets:
            number = target["row_number"]
            change = (
                {"email": f"fixed{number}@example.com"}
                if target["invalid"]
                else {"first_name": f"{target['first_name'] or 'Ana'} Jr"}
            )
            await review.edit(problem, number, change)
        edit_s = time.perf_counter() - started
        edited = [t["row_number"] for t in targets]
        discarded = await services.pool.fetchval(
            "WITH d AS (UPDATE staging SET status = 'DISCARD' WHERE job_id = $1"
            " AND status = 'ISSUE' AND NOT (row_number = ANY($2)) RETURNING 1)"
            " SELECT count(*) FROM d",
            problem,
            edited,
        )
        await review.request_reprocess(problem)
        await drain()
        jobs = {
            name: await fetch_job(services.pool, job_id)
            for name, job_id in (("steady", steady), ("clean", clean), ("problem", problem))
        }
    return {
        "phases": phases,
        "cpu": cpu,
        "own_cpu": own,
        "s3_server_cpu": s3_server,
        "clean_job": str(clean),
        "edits": len(targets),
        "edit_s": edit_s,
        "discarded": discarded,
        "jobs": {
            name: {
                key: getattr(job, key)
                for key in ("status", "total_rows", "valid_rows", "issue_rows", "unresolved_issues")
            }
            for name, job in jobs.items()
            if job is not None
        },
    }


async def worker_floor(path: Path) -> float:
    """(The worker process) seconds the initial flow's own Python work takes on the clean
    file with no database and no S3: read from disk, validate, encode as COPY data. The
    initial flow cannot be faster than this on one core; the median of three runs."""
    import uuid

    from worker.sources.s3 import LocalFileStream
    from worker.sources.source import open_source
    from worker.store.staging import copy_text
    from worker.validation import RowValidator

    runs = []
    for _ in range(3):
        started = time.perf_counter()
        source = await open_source(LocalFileStream(path), {}, batch_rows=2000)
        job = uuid.uuid4()
        validator = RowValidator(job, source.detection.mapping.columns, source.detection.headers)
        async for batch in source.batches():
            staged, _issues = validator.validate_columns(batch.numbers, batch.rows, {})
            copy_text(str(job), staged)
        source.close()
        runs.append(time.perf_counter() - started)
    return sorted(runs)[1]


def worker_child(
    database_url: str, endpoint: str, queue_url: str, dlq_url: str, clean_path: str
) -> None:
    """(Child process, as a worker) run the jobs; print the phases and peak RSS (and the
    flows' summary lines, as JSON on stderr)."""
    from worker.logs import configure_logging

    configure_logging("INFO", "json")
    result = asyncio.run(run_jobs(database_url, endpoint, (queue_url, dlq_url)))
    result["peak_rss_mb"] = peak_rss_mb()
    result["floor_s"] = asyncio.run(worker_floor(Path(clean_path)))
    print("JOBS " + json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--steady-rows", type=int, default=200_000)
    parser.add_argument("--prepare", nargs=2, metavar=("ENDPOINT", "DIR"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--worker",
        nargs=5,
        metavar=("URL", "ENDPOINT", "QUEUE", "DLQ", "FILE"),
        help=argparse.SUPPRESS,
    )
    args = parser.parse_args()
    if args.prepare:
        prepare(args.prepare[0], Path(args.prepare[1]), args.rows, args.steady_rows)
        return
    if args.worker:
        worker_child(*args.worker)
        return

    work = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    work.chmod(0o755)  # the PostgreSQL server reads the file for its own COPY
    server, database_url, admin_url = bench_database(work)
    try:
        with moto_server() as endpoint:
            started = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--rows",
                    str(args.rows),
                    "--steady-rows",
                    str(args.steady_rows),
                    "--prepare",
                    endpoint,
                    str(work),
                ],
                check=True,
            )
            clean_path = work / "clean.csv"
            clean_path.chmod(0o644)
            print(
                f"generated and uploaded 2 x {args.rows} + {args.steady_rows} rows "
                f"({clean_path.stat().st_size / 1e6:.0f} MB a file) in "
                f"{time.perf_counter() - started:.1f} s"
            )
            worker = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--worker",
                    database_url,
                    endpoint,
                    *create_queues(endpoint),
                    str(clean_path),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            output = worker.stdout
            line = next(line for line in output.splitlines() if line.startswith("JOBS "))
            result = json.loads(line[5:])
            summaries = [
                json.loads(line)
                for line in worker.stderr.splitlines()
                if line.startswith("{") and ('_finished"' in line or '"export_written"' in line)
            ]
        copy_s = asyncio.run(copy_floor(database_url, clean_path))
        contacts_s = asyncio.run(contacts_floor(database_url, result["clean_job"]))
    finally:
        release_database(server, database_url, admin_url)
        for name in FILES:
            (work / f"{name}.csv").unlink(missing_ok=True)
    for name, job in result["jobs"].items():
        print(f"{name} job: {json.dumps(job)}")
    print(
        f"review: {result['edits']} rows edited through Review in {result['edit_s']:.1f} s, "
        f"{result['discarded']} issue rows discarded in one statement"
    )
    for summary in summaries:
        if summary.get("event") in {
            "initial_flow_finished",
            "reprocess_finished",
            "consolidation_finished",
            "export_written",
        }:
            shown = {
                k: v for k, v in summary.items() if k.endswith("_s") or k in {"seconds", "checks"}
            }
            rows = summary.get("rows", summary.get("rows_revalidated", summary.get("contacts", "")))
            print(f"{summary['event']} ({rows} rows): {json.dumps(shown)}")
    phases = result["phases"]
    print("phases (s): " + json.dumps({key: round(value, 2) for key, value in phases.items()}))
    print(
        f"worker floor: the clean file read from disk, validated and encoded with no database"
        f" (median of three): {result['floor_s']:.2f} s = {result['floor_s'] / copy_s:.1f}x copy"
    )
    cores = os.cpu_count() or 1
    print(
        f"machine CPU over each phase (every process; of it the worker's and the S3"
        f" server's), and the least wall time that work could take on {cores} cores, as x"
        f" copy (with the S3 server's share, and without it, as in production): "
        + json.dumps(
            {
                key: f"{used:.1f} cpu-s (worker {result['own_cpu'][key]:.1f},"
                f" S3 server {served:.1f}), {used / phases[key]:.2f} cores busy,"
                f" >= {used / cores / copy_s:.1f}x, >= {(used - served) / cores / copy_s:.1f}x"
                for key, used in result["cpu"].items()
                for served in [result["s3_server_cpu"].get(key, 0.0)]
            }
        )
    )
    print(
        f"server floor: the clean job's contacts inserted again by the server alone into an"
        f" empty table made like contacts (median of three): {contacts_s:.2f} s ="
        f" {contacts_s / copy_s:.1f}x copy"
    )
    initial_s = phases["clean.initial"]
    consolidate_s = phases["clean.consolidate"]
    export_s = phases["clean.export"]
    reprocess_s = phases["problem.reprocess"]
    job_s = initial_s + consolidate_s + export_s
    rows = int(result["jobs"]["clean"]["total_rows"] or 0)
    print(
        f"RESULT rows={rows} copy_s={copy_s:.2f} initial_s={initial_s:.2f} "
        f"consolidate_s={consolidate_s:.2f} export_s={export_s:.2f} "
        f"reprocess_s={reprocess_s:.2f} initial_ratio={initial_s / copy_s:.2f} "
        f"job_ratio={job_s / copy_s:.2f} peak_rss_mb={result['peak_rss_mb']:.1f}"
    )


if __name__ == "__main__":
    main()
