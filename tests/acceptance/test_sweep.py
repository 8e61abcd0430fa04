"""The sweep sends again the jobs nothing would move: through the CLI and the daemon."""

from __future__ import annotations

import json

from tests.conftest import AwsResources, cli_env, run_cli
from tests.outage import FailingWrites
from tests.support import job_status, stranded_job
from worker.messages import JobMessage
from worker.services import Services
from worker.store.jobs import create_job, fetch_job
from worker.store.queries import sql


async def test_the_sweep_command_sends_stranded_jobs_once_and_a_worker_finishes_them(
    services: Services, aws: AwsResources
) -> None:
    env = cli_env(services.settings)
    pending = await stranded_job(services, aws)
    orphaned = await stranded_job(services, aws, status="PROCESSING")
    recent = await stranded_job(services, aws, minutes=1)
    held = await stranded_job(services, aws, status="PROCESSING")

    async with services.pool.acquire() as live_worker:
        # A live worker holds this one: never swept, however old.
        assert await live_worker.fetchval(sql("try_lock_job"), held)
        dry = run_cli(["sweep", "--dry-run"], env)
        assert dry.returncode == 0, dry.stderr
        assert f"{pending}  PENDING       never picked up: would send 'process'" in dry.stdout
        assert f"{orphaned}  PROCESSING    no worker holds it" in dry.stdout
        assert str(recent) not in dry.stdout and str(held) not in dry.stdout
        assert aws.queue_messages(wait_s=0) == []

        swept = run_cli(["sweep"], env)
        assert "sent 2 stranded job(s) again" in swept.stdout, swept.stdout
        again = run_cli(["sweep"], env)  # within INGEST_SWEEP_AFTER_S: not twice
        assert "sent 0 stranded job(s) again" in again.stdout
        await live_worker.execute(sql("unlock_job"), held)

    finisher = run_cli(["run", "--once"], env)
    assert finisher.returncode == 0, finisher.stderr
    assert await job_status(services.pool, pending) == "COMPLETED"
    assert await job_status(services.pool, orphaned) == "COMPLETED"
    assert await job_status(services.pool, recent) == "PENDING"


async def test_pending_jobs_are_left_alone_while_the_queue_has_a_backlog(
    services: Services, aws: AwsResources
) -> None:
    # A long backlog: this job's message may well be waiting in it; sending another copy
    # every sweep would multiply the queue.
    env = cli_env(services.settings)
    pending = await stranded_job(services, aws)
    other = await create_job(services.pool, tenant="t", bucket=aws.bucket, key="other.csv")
    await services.queue.send(JobMessage(job_id=other).body())
    assert "would send 0 stranded" in run_cli(["sweep", "--dry-run"], env).stdout
    aws.sqs.purge_queue(QueueUrl=aws.queues.queue_url)
    listed = run_cli(["sweep", "--dry-run"], env).stdout
    assert f"{pending}  PENDING       never picked up" in listed


async def test_abandoned_exports_are_asked_for_again(services: Services, aws: AwsResources) -> None:
    job_id = await stranded_job(services, aws)
    assert run_cli(["sweep", "--after-s", "60"], cli_env(services.settings)).returncode == 0
    assert run_cli(["run", "--once"], cli_env(services.settings)).returncode == 0
    await services.pool.execute(
        "UPDATE jobs SET exports = jsonb_set(exports, '{state}', '\"writing\"'),"
        " updated_at = now() - interval '1 hour', swept_at = NULL WHERE id = $1",
        job_id,
    )
    listed = run_cli(["sweep", "--dry-run"], cli_env(services.settings))
    assert f"{job_id}  COMPLETED     exports abandoned: would send 'export'" in listed.stdout
    run_cli(["sweep"], cli_env(services.settings))
    (message,) = aws.queue_messages(wait_s=1)
    assert json.loads(message["Body"]) == {
        "version": 1,
        "job_id": str(job_id),
        "action": "export",
    }


async def test_failed_exports_are_written_again_by_themselves(
    services: Services, aws: AwsResources
) -> None:
    # S3 refuses every upload while reads go on: the first two tries fail.
    cut = FailingWrites(aws.emulator.endpoint_url)
    broken = cli_env(
        services.settings, INGEST_S3_ENDPOINT_URL=cut.url, INGEST_EXPORT_RETRY_BASE_S="0"
    )
    job_id = await stranded_job(services, aws, minutes=0)
    await services.queue.send(JobMessage(job_id=job_id).body())
    assert run_cli(["run", "--once"], broken).returncode == 0
    job = await fetch_job(services.pool, job_id)
    assert job is not None and job.status == "COMPLETED"
    assert (job.exports["state"], job.exports["attempts"]) == ("failed", 1)

    swept = run_cli(["sweep"], broken)
    assert f"{job_id}  COMPLETED     exports failed 1 time(s): sent 'export'" in swept.stdout
    assert run_cli(["run", "--once"], broken).returncode == 0
    job = await fetch_job(services.pool, job_id)
    assert job is not None and (job.exports["state"], job.exports["attempts"]) == (
        "failed",
        2,
    )

    # Uploads go through again: the next sweep's request writes them.
    cut.failing = False
    fixed = broken
    assert "sent 1 stranded job(s) again" in run_cli(["sweep"], fixed).stdout
    assert run_cli(["run", "--once"], fixed).returncode == 0
    job = await fetch_job(services.pool, job_id)
    assert job is not None
    assert (job.exports["state"], job.exports["attempts"]) == ("written", 3)
    # Export requests are the exports' tries, not the job's.
    assert job.attempts == 1
    keys = [entry["key"] for entry in job.exports["files"].values()]
    for key in keys:
        aws.s3.head_object(Bucket=aws.bucket, Key=key)
    # Written: nothing more to ask for.
    assert "sent 0 stranded job(s) again" in run_cli(["sweep"], fixed).stdout
    assert cut.refused > 0
    cut.close()


async def test_failed_exports_stop_at_the_limit(services: Services, aws: AwsResources) -> None:
    cut = FailingWrites(aws.emulator.endpoint_url)
    broken = cli_env(
        services.settings,
        INGEST_S3_ENDPOINT_URL=cut.url,
        INGEST_EXPORT_RETRY_BASE_S="0",
        INGEST_EXPORT_MAX_ATTEMPTS="2",
    )
    job_id = await stranded_job(services, aws, minutes=0)
    await services.queue.send(JobMessage(job_id=job_id).body())
    assert run_cli(["run", "--once"], broken).returncode == 0
    assert "sent 1 stranded" in run_cli(["sweep"], broken).stdout
    assert run_cli(["run", "--once"], broken).returncode == 0
    assert "sent 0 stranded" in run_cli(["sweep"], broken).stdout
    job = await fetch_job(services.pool, job_id)
    assert job is not None and job.exports["attempts"] == 2
    cut.close()
