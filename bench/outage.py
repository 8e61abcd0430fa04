"""A service taken away in the middle of a job, with the product's own settings: the job
completes by itself, its exports are written, the worker stays up and stops when asked,
nothing reaches the dead-letter queue.

    python bench/outage.py [--service postgres|sqs|s3|sqs,postgres,s3] [--outage-s 60|30,60]
                           [--at reading|consolidating|exporting] [--rows 200000]

A worker runs as ``ingest-worker run`` (a process of its own, default settings: retries
back off 5, 10-20, 40-80, 160-320 s; the queue's redrive after 5 receives) and reaches
PostgreSQL, the queue and S3 through TCP proxies. Each entry of ``--service`` is one job (a
clean file), in order, through the same worker process: once the job reaches ``--at`` (a
tenth of the file staged, consolidation under way, or the exports being written), that
service's proxy refuses new connections and cuts the open ones for the entry's
``--outage-s`` seconds, then lets them through again. Each job is followed until it is
COMPLETED with its exports written (at most ten minutes); then the worker gets SIGTERM and
its stop is timed. Too long for the test suite (a minute of outage, and the backoff after
it); its tests scale the outage down with shorter retry delays. Ends with:

RESULT service=S at=P outage_s=N jobs=N completed=N exported=N status=S staged=N rows=N
dlq=N attempts=N worker_up=0|1 stop_s=F seconds=F (on one line; per-job values are
comma-separated)
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
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.outage

from common import (  # the bench folder is put on the path just above
    bench_database,
    create_queues,
    moto_server,
    release_database,
    upload,
    worker_settings,
    write_contacts,
)

from tests.outage import OutageProxy, database_proxy

ROOT = Path(__file__).resolve().parent.parent
# When the outage begins: a tenth of the file staged, consolidation under way, or the
# exports being written ($1 the job, $2 a tenth of its rows).
PHASES = {
    "reading": "SELECT checkpoint_row >= $2 FROM jobs WHERE id = $1",
    "consolidating": "SELECT status = 'CONSOLIDATING' AND $2 >= 0 FROM jobs WHERE id = $1",
    "exporting": "SELECT exports ->> 'state' = 'writing' AND $2 >= 0 FROM jobs WHERE id = $1",
}
BUCKET = "bench-outage"


async def run(
    database_url: str,
    endpoint: str,
    work: Path,
    *,
    rows: int,
    outage_s: list[float],
    services: list[str],
    at: str = "reading",
    worker_log: Path | None = None,
) -> str:
    """The jobs (one a service, in order, through one worker process), each with its
    outage, followed to its exports; then the worker's stop. The RESULT line."""
    import asyncpg
    import boto3

    from worker.store.migrate import migrate

    queue_url, dlq_url = create_queues(endpoint)
    connection = await asyncpg.connect(database_url)
    try:
        await migrate(connection)
    finally:
        await connection.close()
    sqs = boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - the emulator's dummy key
    )
    database, proxied_url = database_proxy(database_url)
    await database.up()
    queue = OutageProxy(endpoint)
    await queue.up()
    storage = OutageProxy(endpoint)
    await storage.up()
    proxies = {"postgres": database, "sqs": queue, "s3": storage}
    settings = worker_settings(proxied_url(), storage.url, BUCKET).model_copy(
        update={"sqs_endpoint_url": queue.url}
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("INGEST_")}
    for field, value in settings.model_dump().items():
        if value is not None:
            plain = value.get_secret_value() if hasattr(value, "get_secret_value") else value
            env[f"INGEST_{field.upper()}"] = str(plain)
    env.update(INGEST_SQS_QUEUE_URL=queue_url, INGEST_SQS_DLQ_URL=dlq_url)
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "worker",
        "run",
        cwd=ROOT,
        env=env,
        stdout=worker_log.open("ab") if worker_log else subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    watch = await asyncpg.connect(database_url)  # not through the proxies
    outcomes: list[dict[str, Any]] = []
    stop_s = float("nan")
    try:
        for service, seconds in zip(services, outage_s, strict=True):
            outcomes.append(
                await _one_job(
                    watch,
                    sqs,
                    queue_url,
                    proxies[service],
                    endpoint=endpoint,
                    file=work / "contacts.csv",
                    service=service,
                    rows=rows,
                    outage_s=seconds,
                    at=at,
                )
            )
            if worker.returncode is not None:
                break
        worker_up = worker.returncode is None
    finally:
        await watch.close()
        stopping = time.monotonic()
        worker.terminate()
        try:
            await asyncio.wait_for(worker.wait(), 60)
            stop_s = time.monotonic() - stopping
        except TimeoutError:
            print("the worker did not stop within 60 s of SIGTERM; killed", flush=True)
            worker.kill()
            await worker.wait()
        for proxy in proxies.values():
            await proxy.down()
    dead = int(
        sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"
        ]["ApproximateNumberOfMessages"]
    )
    completed = sum(o["status"] == "COMPLETED" and o["staged"] == rows for o in outcomes)
    exported = sum(o["exports"] == "written" for o in outcomes)
    return (
        f"RESULT service={','.join(services)} at={at}"
        f" outage_s={','.join(format(seconds, '.0f') for seconds in outage_s)} jobs={len(services)}"
        f" completed={completed} exported={exported}"
        f" status={','.join(o['status'] for o in outcomes)}"
        f" staged={','.join(str(o['staged']) for o in outcomes)} rows={rows} dlq={dead}"
        f" attempts={','.join(str(o['attempts']) for o in outcomes)}"
        f" worker_up={int(worker_up)} stop_s={stop_s:.1f}"
        f" seconds={','.join(format(o['seconds'], '.1f') for o in outcomes)}"
    )


async def _one_job(
    watch: Any,
    sqs: Any,
    queue_url: str,
    proxy: OutageProxy,
    *,
    endpoint: str,
    file: Path,
    service: str,
    rows: int,
    outage_s: float,
    at: str,
) -> dict[str, Any]:
    """One job: submitted, its service away once it reaches ``at`` (see PHASES), then followed
    until COMPLETED and its exports written (ten minutes at most)."""
    from worker.messages import JobMessage
    from worker.store.jobs import create_job

    key = f"uploads/outage/{uuid.uuid4().hex}.csv"
    upload(endpoint, file, BUCKET, key)
    tenant = f"outage-{uuid.uuid4().hex[:8]}-{service}"  # no contacts of an earlier job
    job_id = await create_job(watch, tenant=tenant, bucket=BUCKET, key=key)
    sqs.send_message(QueueUrl=queue_url, MessageBody=JobMessage(job_id=job_id).body())
    started = time.monotonic()
    while not await watch.fetchval(PHASES[at], job_id, rows // 10):
        if time.monotonic() - started > 300:
            raise SystemExit(f"the job never reached {at}")
        await asyncio.sleep(0.02)
    await proxy.down()
    print(f"{service} away for {outage_s:.0f} s, {at}", flush=True)
    await asyncio.sleep(outage_s)
    await proxy.up()
    print(f"{service} back", flush=True)
    # Until the job is COMPLETED and its exports written (or it settles elsewhere).
    while time.monotonic() - started < 600:
        job = await watch.fetchrow(
            "SELECT status, exports ->> 'state' AS exports FROM jobs WHERE id = $1", job_id
        )
        if job["status"] not in ("PENDING", "PROCESSING", "CONSOLIDATING", "COMPLETED"):
            break
        # Failed exports are not an end: the sweep writes them again by itself.
        if job["status"] == "COMPLETED" and job["exports"] == "written":
            break
        await asyncio.sleep(0.5)
    job = await watch.fetchrow(
        "SELECT status, attempts, exports ->> 'state' AS exports FROM jobs WHERE id = $1", job_id
    )
    staged = await watch.fetchval("SELECT count(*) FROM staging WHERE job_id = $1", job_id)
    outcome = {
        "status": job["status"],
        "attempts": job["attempts"],
        "exports": job["exports"] or "none",
        "staged": staged,
        "seconds": time.monotonic() - started,
    }
    print(f"job {job_id} ({service} outage): {outcome}", flush=True)
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument(
        "--outage-s", default="60", help="seconds (one value, or one per --service entry)"
    )
    parser.add_argument(
        "--service",
        default="postgres",
        help="postgres, sqs, s3, or a comma-separated sequence (one job each, one worker)",
    )
    parser.add_argument("--at", choices=sorted(PHASES), default="reading")
    parser.add_argument("--worker-log", type=Path, help="append the worker's log to this file")
    args = parser.parse_args()
    services = args.service.split(",")
    outages = [float(value) for value in args.outage_s.split(",")]
    if len(outages) == 1:
        outages *= len(services)
    if len(outages) != len(services):
        parser.error("--outage-s takes one value, or one per --service entry")
    if any(service not in ("postgres", "sqs", "s3") for service in services):
        parser.error("--service takes postgres, sqs, s3, or a comma-separated sequence of them")
    with tempfile.TemporaryDirectory(prefix="ingest-outage-") as folder, moto_server() as endpoint:
        work = Path(folder)
        write_contacts(work / "contacts.csv", rows=args.rows, clean=True)
        boto3_client = __import__("boto3").client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - the emulator's dummy key
        )
        boto3_client.create_bucket(Bucket=BUCKET)
        server, database_url, admin_url = bench_database(work)
        try:
            print(
                asyncio.run(
                    run(
                        database_url,
                        endpoint,
                        work,
                        rows=args.rows,
                        outage_s=outages,
                        services=services,
                        at=args.at,
                        worker_log=args.worker_log,
                    )
                )
            )
        finally:
            release_database(server, database_url, admin_url)


if __name__ == "__main__":
    main()
