"""A service taken away in the middle of a job, with the product's own settings: the job
completes by itself, the worker stays up, nothing reaches the dead-letter queue.

    python bench/outage.py [--service postgres|sqs] [--rows 200000] [--outage-s 60]

A worker runs as ``ingest-worker run`` (a process of its own, default settings: retries
back off 5, 10-20, 40-80, 160-320 s; the queue's redrive after 5 receives) and reaches
PostgreSQL (``--service postgres``) or the queue (``--service sqs``) through a TCP proxy.
Once the job has committed batches, the proxy refuses new connections and cuts the open
ones for ``--outage-s`` seconds, then lets them through again. The run waits until the
job (a clean file) is COMPLETED (at most ten minutes) and compares its staging rows with
the file. Too long for the test suite (a minute of outage, and the backoff after it); its
tests scale the outage down with shorter retry delays. Ends with:

RESULT service=S outage_s=N completed=0|1 status=S staged=N rows=N dlq=N attempts=N
worker_up=0|1 seconds=F (on one line)
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
BUCKET = "bench-outage"


async def run(
    database_url: str, endpoint: str, work: Path, *, rows: int, outage_s: float, service: str
) -> str:
    """The job, the outage and the outcome; the RESULT line."""
    import asyncpg
    import boto3

    from worker.messages import JobMessage
    from worker.store.jobs import create_job
    from worker.store.migrate import migrate

    queue_url, dlq_url = create_queues(endpoint)
    connection = await asyncpg.connect(database_url)
    try:
        await migrate(connection)
        key = f"uploads/outage/{uuid.uuid4().hex}.csv"
        upload(endpoint, work / "contacts.csv", BUCKET, key)
        job_id = await create_job(connection, tenant="outage", bucket=BUCKET, key=key)
    finally:
        await connection.close()
    sqs = boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - the emulator's dummy key
    )
    sqs.send_message(QueueUrl=queue_url, MessageBody=JobMessage(job_id=job_id).body())

    if service == "postgres":
        proxy, proxied_url = database_proxy(database_url)
        await proxy.up()
        settings = worker_settings(proxied_url(), endpoint, BUCKET)
    else:
        proxy = OutageProxy(endpoint)
        await proxy.up()
        settings = worker_settings(database_url, endpoint, BUCKET).model_copy(
            update={"sqs_endpoint_url": proxy.url}
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
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    watch = await asyncpg.connect(database_url)  # not through the proxy
    started = time.monotonic()
    try:
        while (await watch.fetchval("SELECT checkpoint_row FROM jobs WHERE id = $1", job_id)) < (
            rows // 10
        ):
            if time.monotonic() - started > 300:
                raise SystemExit("the job never got going")
            await asyncio.sleep(0.05)
        await proxy.down()
        print(f"{service} away for {outage_s:.0f} s, mid-job", flush=True)
        await asyncio.sleep(outage_s)
        await proxy.up()
        print(f"{service} back", flush=True)
        # Until the job is decided and, for a clean file, consolidated.
        while (status := await watch.fetchval("SELECT status FROM jobs WHERE id = $1", job_id)) in (  # noqa: ASYNC110 - polls the database
            "PENDING",
            "PROCESSING",
            "CONSOLIDATING",
        ) and time.monotonic() - started < 600:
            await asyncio.sleep(0.5)
        seconds = time.monotonic() - started
        job = await watch.fetchrow("SELECT status, attempts FROM jobs WHERE id = $1", job_id)
        staged = await watch.fetchval("SELECT count(*) FROM staging WHERE job_id = $1", job_id)
        worker_up = worker.returncode is None
    finally:
        await watch.close()
        worker.terminate()
        await asyncio.wait_for(worker.wait(), 60)
        await proxy.down()
    dead = int(
        sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"
        ]["ApproximateNumberOfMessages"]
    )
    completed = status == "COMPLETED" and staged == rows
    return (
        f"RESULT service={service} outage_s={outage_s:.0f} completed={int(completed)}"
        f" status={job['status']} staged={staged} rows={rows} dlq={dead}"
        f" attempts={job['attempts']} worker_up={int(worker_up)} seconds={seconds:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--outage-s", type=float, default=60)
    parser.add_argument("--service", choices=("postgres", "sqs"), default="postgres")
    args = parser.parse_args()
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
                        outage_s=args.outage_s,
                        service=args.service,
                    )
                )
            )
        finally:
            release_database(server, database_url, admin_url)


if __name__ == "__main__":
    main()
