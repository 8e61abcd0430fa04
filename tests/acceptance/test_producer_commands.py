"""The producer-side commands as a person runs them: presign-upload, submit --s3-key, discover."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import subprocess
import urllib.request
from pathlib import Path

from tests.conftest import CLI, ROOT, AwsResources, cli_env, run_cli
from tests.integration.test_producers import CLEAN, _indici_keys, _put_many
from tests.support import drain
from worker.discover import PRESETS, enqueue, plan
from worker.services import Services


async def test_presign_upload_then_submit_the_key(
    services: Services, aws: AwsResources, tmp_path: Path
) -> None:
    env = cli_env(services.settings)
    # --user is the older name of --tenant, still taken.
    presigned = run_cli(
        ["presign-upload", "--user", "tenant-1", "--filename", "a b.csv", "--json"], env
    )
    assert presigned.returncode == 0, presigned.stderr
    answer = json.loads(presigned.stdout)
    assert answer["key"].startswith("uploads/tenant-1/") and answer["key"].endswith("_a_b.csv")

    def put() -> int:
        request = urllib.request.Request(  # noqa: S310 - our URL
            answer["url"], data=CLEAN, method="PUT", headers={"Content-Type": "text/csv"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status)

    assert await asyncio.to_thread(put) == 200
    submitted = run_cli(
        ["submit", "--s3-key", answer["key"], "--tenant", "tenant-1", "--json"], env
    )
    assert submitted.returncode == 0, submitted.stderr
    job_id = json.loads(submitted.stdout)["job_id"]
    twice = run_cli(["submit", "--s3-key", answer["key"], "--tenant", "tenant-1", "--json"], env)
    assert json.loads(twice.stdout) == {"job_id": job_id, "key": answer["key"], "created": False}
    missing = run_cli(
        ["submit", "--s3-key", "uploads/tenant-1/nope.csv", "--tenant", "tenant-1"], env
    )
    assert missing.returncode == 1 and "cannot be read" in missing.stderr
    for options, said in [
        ('{"delimiter": ";;"}', "option delimiter=';;': must be one character"),
        ('{"header_row": "abc"}', "option header_row='abc': must be a row number"),
    ]:
        refused = run_cli(
            ["submit", "--s3-key", answer["key"], "--tenant", "tenant-2", "--options", options], env
        )
        assert refused.returncode == 1 and said in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr and len(refused.stderr.splitlines()) == 1
    await drain(services)
    assert await services.pool.fetchval("SELECT status FROM jobs") == "COMPLETED"


async def test_discovery_over_thousands_of_objects_enqueues_exactly_the_new_ones(
    services: Services, aws: AwsResources
) -> None:
    # 3,000 objects: three listing pages and more (bench/discover.py measures 10,000).
    keys = _indici_keys(3_000)
    extra = [
        "extracts/2025/08/01/readme.txt",
        "extracts/2025/08/02/685147545Patients_202508180544_202508190544_2508190850",
    ]
    _put_many(aws, keys + extra)
    pattern = PRESETS["indici"]
    user = "practice-545"
    # Earlier runs ingested 18 of the 20 batches: one through discovery now...
    earlier = await plan(
        services.pool,
        services.s3,
        aws.bucket,
        prefix="extracts/2025/08/03/",
        pattern=pattern,
        tenant=user,
    )
    assert len(earlier.new) == 150
    assert len(await enqueue(services.pool, services.queue, earlier.new, {})) == 150
    # Sent after their jobs committed, visible at once.
    assert aws.counts(aws.queues.queue_url) == (150, 0)
    aws.sqs.purge_queue(QueueUrl=aws.queues.queue_url)  # (those messages were consumed)
    # ... and 17 long ago (their messages consumed too): their jobs are in the database.
    listing = await plan(
        services.pool, services.s3, aws.bucket, prefix="extracts/", pattern=pattern, tenant=user
    )
    long_ago = [f for f in listing.new if f.batch not in ("202508050850", "202508120850")]
    await services.pool.execute(
        "INSERT INTO jobs (user_id, source_bucket, source_key, source_etag, status)"
        " SELECT $1, $2, k, e, 'COMPLETED' FROM unnest($3::text[], $4::text[]) AS u(k, e)",
        user,
        aws.bucket,
        [f.obj.key for f in long_ago],
        [f.obj.etag for f in long_ago],
    )

    found = await plan(
        services.pool, services.s3, aws.bucket, prefix="extracts/", pattern=pattern, tenant=user
    )
    assert found.listed == 3_002
    states = [f.state for f in found.files]
    assert (states.count("invalid"), states.count("ingested"), states.count("new")) == (
        1,
        2_700,
        300,
    )
    new = found.new
    assert [f.batch for f in new] == ["202508050850"] * 150 + ["202508120850"] * 150
    created = await enqueue(services.pool, services.queue, new, {})
    # Created and sent in plan order: the n-th new file's job is the n-th created.
    rows = await services.pool.fetch("SELECT id, source_key FROM jobs")
    key_of = {row["id"]: row["source_key"] for row in rows}
    assert [key_of[job_id] for job_id in created] == [f.obj.key for f in new]
    assert aws.counts(aws.queues.queue_url) == (300, 0)
    sample = aws.sqs.receive_message(QueueUrl=aws.queues.queue_url, MaxNumberOfMessages=10)
    sent = {json.loads(m["Body"])["job_id"] for m in sample["Messages"]}
    assert len(sent) == 10 and sent <= {str(job_id) for job_id in created}

    again = await plan(
        services.pool, services.s3, aws.bucket, prefix="extracts/", pattern=pattern, tenant=user
    )
    assert again.new == []
    assert await enqueue(services.pool, services.queue, again.new, {}) == []
    assert aws.counts(aws.queues.queue_url) == (290, 10)  # nothing more was sent
    latest = await plan(
        services.pool,
        services.s3,
        aws.bucket,
        prefix="extracts/",
        pattern=pattern,
        tenant=user,
        latest=True,
    )
    assert {f.batch for f in latest.files} == {"202508200850"}


async def test_discover_dry_run_prints_the_plan_and_enqueues_nothing(
    services: Services, aws: AwsResources
) -> None:
    for key in _indici_keys(40):
        aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=b"e")
    env = cli_env(services.settings)
    dry_run = [
        "discover",
        "--prefix",
        "extracts/",
        "--pattern",
        "indici",
        "--user",
        "p",
        "--dry-run",
    ]
    shown = run_cli([*dry_run, "--since", "2025-08-19"], env)
    assert shown.returncode == 0, shown.stderr
    assert "40 objects listed, 4 match the pattern: 4 new in 2 batch(es)" in shown.stdout
    assert "dry run: nothing enqueued" in shown.stdout
    as_json = run_cli([*dry_run, "--batch", "202508010850", "--json"], env)
    planned = json.loads(as_json.stdout)
    assert planned["enqueued"] == 0 and {f["batch"] for f in planned["files"]} == {"202508010850"}
    assert await services.pool.fetchval("SELECT count(*) FROM jobs") == 0
    no_user = run_cli(["discover", "--prefix", "extracts/", "--pattern", "indici"], env)
    assert no_user.returncode == 1 and "give --tenant" in no_user.stderr


def _run_on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run ``ingest-worker ARGS`` with its stdout and stderr on a pseudo-terminal, as a
    person at a shell sees it; the exit code and what the terminal showed, in order."""
    main, child = pty.openpty()
    process = subprocess.Popen(
        [*CLI, *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=child,
        stderr=child,
    )
    os.close(child)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(main)
    return process.wait(timeout=60), shown.decode().replace("\r\n", "\n")


async def test_submit_on_a_terminal_draws_its_progress_before_the_result(
    services: Services, aws: AwsResources, tmp_path: Path
) -> None:
    path = tmp_path / "contacts.csv"
    path.write_bytes(CLEAN)
    env = cli_env(services.settings, INGEST_LOG_LEVEL="WARNING")
    code, shown = await asyncio.to_thread(
        _run_on_a_terminal, ["submit", str(path), "--tenant", "tenant-1"], env
    )
    assert code == 0, shown
    progress, result = shown.index("uploaded "), shown.index(" submitted as job ")
    assert progress < result, shown
    # The line is redrawn in place ("\r") and ends, complete, before the result's line.
    drawn = shown[progress : shown.index("\n", progress)].split("\r")[-1]
    assert drawn == f"uploaded {len(CLEAN)} B of {len(CLEAN)} B (100%)"
