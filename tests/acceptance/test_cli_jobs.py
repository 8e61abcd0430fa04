"""The ``jobs`` and ``review`` commands in a subprocess, against the test's services."""

from __future__ import annotations

import asyncio
import json
import urllib.request

from tests.conftest import AwsResources, cli_env, run_cli
from tests.support import cli_worker, csv_bytes, drain, submit
from worker.messages import JobMessage
from worker.services import Services
from worker.store.jobs import create_job, fetch_job

HEADER = ["email", "first_name", "last_name", "company"]


async def test_review_from_the_command_line_to_completed(
    services: Services, aws: AwsResources
) -> None:
    rows = [["ana@x.pt", "Ana", "Silva", "Acme"], ["bo-x.pt", "Bo", "Costa", "Acme"]]
    job_id = await submit(services, aws, csv_bytes([HEADER, *rows]))
    await drain(services)
    env = cli_env(services.settings, INGEST_ACTOR="joana")
    job = str(job_id)

    listed = run_cli(["review", "issues", job, "--tenant", "tenant-1", "--json"], env)
    assert listed.returncode == 0, listed.stderr
    (issue,) = json.loads(listed.stdout)
    assert (issue["type"], issue["rows"], issue["number"]) == ("INVALID_EMAIL", [3], 1)
    shown = run_cli(["review", "rows", job, "--tenant", "tenant-1", "--status", "ISSUE"], env)
    assert "row 3" in shown.stdout and "#1 INVALID_EMAIL" in shown.stdout
    # One row with issues: no next page is offered that would print nothing.
    assert "next page" not in shown.stdout and "(last page)" in shown.stdout
    paged = run_cli(["review", "rows", job, "--tenant", "tenant-1", "--limit", "1"], env)
    assert "row 2" in paged.stdout and "(next page: --after 2)" in paged.stdout
    last = run_cli(
        ["review", "rows", job, "--tenant", "tenant-1", "--limit", "1", "--after", "2"], env
    )
    assert "row 3" in last.stdout and "(last page)" in last.stdout

    refused = run_cli(["review", "accept", job, "1", "--tenant", "tenant-1", "--as", "skip"], env)
    assert refused.returncode == 1
    assert "INVALID_EMAIL issue is not accepted: edit the row" in refused.stderr
    bad = run_cli(["review", "edit", job, "3", "--tenant", "tenant-1", "--set", "email"], env)
    assert bad.returncode == 1 and "expected FIELD=VALUE" in bad.stderr
    edited = run_cli(
        ["review", "edit", job, "3", "--tenant", "tenant-1", "--set", "email=bo@x.pt"], env
    )
    assert edited.returncode == 0, edited.stderr
    queued = run_cli(["review", "reprocess", job, "--tenant", "tenant-1"], env)
    assert queued.returncode == 0, queued.stderr
    await drain(services)

    done = await fetch_job(services.pool, job_id)
    assert done is not None and done.status == "COMPLETED"
    history = run_cli(["review", "history", job, "--tenant", "tenant-1", "--json"], env)
    actions = [(a["actor"], a["action"], a["row_number"]) for a in json.loads(history.stdout)]
    assert actions == [("joana", "edit", 3), ("joana", "request_reprocess", None)]
    other = run_cli(["review", "issues", job, "--tenant", "tenant-2"], env)
    assert other.returncode == 1 and f"no job {job} for tenant tenant-2" in other.stderr
    not_an_id = run_cli(["review", "issues", "nope", "--tenant", "tenant-1"], env)
    assert not_an_id.returncode == 2 and "'nope' is not a job id" in not_an_id.stderr


async def test_jobs_list_stats_cancel_and_retry(services: Services, aws: AwsResources) -> None:
    env = cli_env(services.settings)
    pending = await create_job(services.pool, tenant="tenant-1", bucket=aws.bucket, key="a.csv")
    failed = await create_job(services.pool, tenant="tenant-1", bucket=aws.bucket, key="b.csv")
    other = await create_job(services.pool, tenant="tenant-2", bucket=aws.bucket, key="c.csv")
    await services.pool.execute(
        "UPDATE jobs SET status = 'FAILED', error = 'S3 said no' WHERE id = $1", failed
    )
    await services.pool.execute("UPDATE jobs SET status = 'COMPLETED' WHERE id = $1", other)

    listed = run_cli(["jobs", "list", "--tenant", "tenant-1", "--json"], env)
    assert listed.returncode == 0, listed.stderr
    assert sorted(job["id"] for job in json.loads(listed.stdout)) == sorted(
        [str(pending), str(failed)]
    )
    stats = json.loads(run_cli(["jobs", "stats", "--json"], env).stdout)
    assert stats == {
        "total": 3,
        "completed": 1,
        "failed": 1,
        "processing": 1,
        "needs_review": 0,
        "cancelled": 0,
        "success_rate": 0.5,
    }
    human = run_cli(["jobs", "stats", "--tenant", "tenant-2"], env).stdout
    assert "total 1, completed 1" in human and "success rate 100.0%" in human

    wrong_tenant = run_cli(["jobs", "cancel", str(pending), "--tenant", "tenant-2"], env)
    assert wrong_tenant.returncode == 1 and "for tenant tenant-2" in wrong_tenant.stderr
    cancelled = run_cli(["jobs", "cancel", str(pending), "--actor", "ops", "--json"], env)
    assert cancelled.returncode == 0, cancelled.stderr
    assert json.loads(cancelled.stdout) == {"job_id": str(pending), "status": "CANCELLED"}
    again = run_cli(["jobs", "cancel", str(pending)], env)
    assert again.returncode == 1 and "is CANCELLED: only a PENDING or NEEDS_REVIEW" in again.stderr
    not_failed = run_cli(["jobs", "retry", str(other)], env)
    assert not_failed.returncode == 1 and "only a FAILED job is retried" in not_failed.stderr
    retried = run_cli(["jobs", "retry", str(failed)], env)
    assert retried.returncode == 0, retried.stderr
    (message,) = aws.queue_messages(wait_s=0)
    assert json.loads(message["Body"]) == {"version": 1, "job_id": str(failed), "action": "retry"}
    actions = await services.pool.fetch(
        "SELECT job_id, actor, action FROM review_actions ORDER BY id"
    )
    assert [tuple(a) for a in actions] == [
        (pending, "ops", "cancel"),
        (failed, actions[1]["actor"], "retry"),
    ]


async def test_requeue_rewrite_show_and_once_finish_a_job_after_a_crash(
    services: Services, aws: AwsResources
) -> None:
    env = cli_env(services.settings, INGEST_VISIBILITY_TIMEOUT_S="4")
    rows = [HEADER, ["ana@x.pt", "Ana", "Silva", "Acme"]]
    job_id = await submit(services, aws, csv_bytes(rows), key="up/crash.csv")
    # A worker received the message and died: it is invisible for its timeout (4 s here).
    taken = aws.sqs.receive_message(QueueUrl=aws.queues.queue_url, VisibilityTimeout=4)
    assert len(taken["Messages"]) == 1
    shown = run_cli(["jobs", "show", str(job_id)], env)
    assert "worker      none is running it" in shown.stdout, shown.stdout
    # --once waits for it to come back instead of leaving the job PENDING.
    finished = run_cli(["run", "--once"], env)
    assert finished.returncode == 0, finished.stderr
    job = await fetch_job(services.pool, job_id)
    assert job is not None and job.status == "COMPLETED"
    first_written = job.exports["written_at"]

    # A lost message: requeue sends it again; for a finished job it changes nothing.
    requeued = run_cli(["jobs", "requeue", str(job_id), "--actor", "ops", "--json"], env)
    assert json.loads(requeued.stdout) == {"job_id": str(job_id), "sent": "process"}
    assert run_cli(["run", "--once"], env).returncode == 0
    job = await fetch_job(services.pool, job_id)
    assert job is not None and job.exports["written_at"] == first_written

    # Exports written again on request.
    rewrite = run_cli(["jobs", "exports", str(job_id), "--rewrite", "--json"], env)
    assert json.loads(rewrite.stdout)["requested"] is True
    assert run_cli(["run", "--once"], env).returncode == 0
    job = await fetch_job(services.pool, job_id)
    assert job is not None and job.exports["state"] == "written"
    assert job.exports["written_at"] != first_written

    # Deleted from the bucket since (a lifecycle rule, a person): said, and written again.
    for entry in job.exports["files"].values():
        aws.s3.delete_object(Bucket=aws.bucket, Key=entry["key"])
    gone = json.loads(run_cli(["jobs", "exports", str(job_id), "--json"], env).stdout)
    assert (gone["state"], gone["requested"]) == ("deleted", True)
    assert run_cli(["run", "--once"], env).returncode == 0
    again = json.loads(run_cli(["jobs", "exports", str(job_id), "--json"], env).stdout)
    assert again["state"] == "written"
    url = next(entry["url"] for entry in again["files"] if entry["kind"] == "valid")

    def download() -> tuple[int, bytes]:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our URL
            return int(response.status), response.read()

    status, body = await asyncio.to_thread(download)
    assert status == 200 and b"ana@x.pt" in body

    cancelled = await create_job(services.pool, tenant="t", bucket=aws.bucket, key="k")
    await services.pool.execute("UPDATE jobs SET status = 'CANCELLED' WHERE id = $1", cancelled)
    refused = run_cli(["jobs", "requeue", str(cancelled)], env)
    assert refused.returncode == 1 and "CANCELLED: there is nothing to run" in refused.stderr


async def test_a_redelivered_message_leaves_a_review_in_progress_alone(
    services: Services, aws: AwsResources
) -> None:
    # Workers as `ingest-worker run --once` processes, a person through `review`: a copy of
    # the job's message that comes back mid-review (its worker died before deleting it)
    # must not judge the half-done edits; the person's request does.
    rows = [["ana@x.pt", "Ana", "Silva", "Acme"], ["bo-x.pt", "Bo", "Costa", "Acme"]]
    job_id = await submit(services, aws, csv_bytes([HEADER, *rows]))
    assert cli_worker(services.settings, "--once", quiet=True).wait(timeout=120) == 0
    env = cli_env(services.settings, INGEST_ACTOR="joana")
    job = str(job_id)
    before = await fetch_job(services.pool, job_id)
    assert before is not None and before.status == "NEEDS_REVIEW"
    edited = run_cli(
        ["review", "edit", job, "3", "--tenant", "tenant-1", "--set", "email=bo@x.pt"], env
    )
    assert edited.returncode == 0, edited.stderr

    await services.queue.send(JobMessage(job_id=job_id).body())
    assert cli_worker(services.settings, "--once", quiet=True).wait(timeout=120) == 0
    after = await fetch_job(services.pool, job_id)
    assert after is not None
    assert (after.status, after.decided_at, after.unresolved_issues) == (
        "NEEDS_REVIEW",
        before.decided_at,
        before.unresolved_issues,
    )
    assert aws.counts(aws.queues.queue_url) == (0, 0)

    assert run_cli(["review", "reprocess", job, "--tenant", "tenant-1"], env).returncode == 0
    assert cli_worker(services.settings, "--once", quiet=True).wait(timeout=120) == 0
    done = await fetch_job(services.pool, job_id)
    assert done is not None and done.status == "COMPLETED"
