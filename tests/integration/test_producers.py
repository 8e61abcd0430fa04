"""Producers, S3 events, discovery and retention, against the real PostgreSQL and S3/SQS."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import ROOT, AwsResources, make_settings
from tests.support import csv_bytes, drain, eventually, job_status_is, new_worker, running
from worker.discover import enqueue, file_pattern, plan
from worker.errors import ActionRefused
from worker.jobs import export_links
from worker.producer import Producer
from worker.retention import purge
from worker.services import Services, open_services

HEADER = ["email", "first_name", "last_name", "company"]
CLEAN = csv_bytes(
    [HEADER, ["ana@x.pt", "Ana", "Silva", "Acme"], ["bo@x.pt", "Bo", "Costa", "Acme"]]
)


def _keys(aws: AwsResources, prefix: str) -> list[str]:
    pages = aws.s3.get_paginator("list_objects_v2").paginate(Bucket=aws.bucket, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def _s3_event(bucket: str, key: str, etag: str) -> str:
    return json.dumps(
        {
            "Records": [
                {
                    "eventSource": "aws:s3",
                    "eventName": "ObjectCreated:Put",
                    "s3": {
                        "bucket": {"name": bucket},
                        "object": {"key": key.replace(" ", "+"), "size": 10, "eTag": etag},
                    },
                }
            ]
        }
    )


async def test_submit_twice_with_one_idempotency_key_gives_one_job(
    services: Services, aws: AwsResources, tmp_path: Path
) -> None:
    path = tmp_path / "contacts.csv"
    path.write_bytes(CLEAN)
    producer = Producer(services.settings, services.pool, services.s3, services.queue)
    first = await producer.submit_file(path, tenant="tenant-1", idempotency_key="import-1")
    again = await producer.submit_file(path, tenant="tenant-1", idempotency_key="import-1")
    assert (first.created, again.created) == (True, False)
    assert again.job_id == first.job_id and again.key == first.key
    assert _keys(aws, "uploads/") == [first.key]  # the second submission uploaded nothing
    # Two at once with another key: one job, and the loser's upload is removed.
    racing = await asyncio.gather(
        producer.submit_file(path, tenant="tenant-1", idempotency_key="import-2"),
        producer.submit_file(path, tenant="tenant-1", idempotency_key="import-2"),
    )
    assert racing[0].job_id == racing[1].job_id
    assert sorted(s.created for s in racing) == [False, True]
    assert len(_keys(aws, "uploads/")) == 2
    # Another tenant's same key is its own job.
    other = await producer.submit_file(path, tenant="tenant-2", idempotency_key="import-1")
    assert other.created and other.job_id != first.job_id
    await drain(services)
    statuses = await services.pool.fetch("SELECT status FROM jobs ORDER BY status")
    # The second tenant-1 job's emails are already that tenant's contacts: for review.
    assert [s["status"] for s in statuses] == ["COMPLETED", "COMPLETED", "NEEDS_REVIEW"]
    assert await services.pool.fetchval("SELECT count(*) FROM contacts") == 4


async def test_a_large_file_is_uploaded_in_parts_with_progress(
    database_url: str, aws: AwsResources, tmp_path: Path
) -> None:
    settings = make_settings(database_url, aws, upload_part_size_bytes=5 * 1024 * 1024)
    rows = [HEADER] + [[f"p{n}@x.pt", "Ana", "Silva", "Acme " + "x" * 60] for n in range(130_000)]
    path = tmp_path / "big.csv"
    path.write_bytes(csv_bytes(rows))
    seen: list[tuple[int, int]] = []
    async with Producer.connect(settings) as producer:
        submitted = await producer.submit_file(
            path, tenant="tenant-1", progress=lambda sent, total: seen.append((sent, total))
        )
        job = await producer.pool.fetchrow("SELECT * FROM jobs WHERE id = $1", submitted.job_id)
    size = path.stat().st_size
    head = aws.s3.head_object(Bucket=aws.bucket, Key=submitted.key)
    assert head["ContentLength"] == size and head["ETag"].strip('"').endswith(f"-{len(seen)}")
    assert len(seen) >= 2 and seen[-1] == (size, size)
    assert (job["status"], job["original_filename"], job["source_etag"]) == (
        "PENDING",
        "big.csv",
        head["ETag"].strip('"'),
    )


async def test_an_s3_event_creates_a_job_that_completes_once(
    services: Services, aws: AwsResources
) -> None:
    key = "uploads/tenant-9/20261122T000000Z_abc_contacts.csv"
    etag = aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=CLEAN)["ETag"].strip('"')
    event = _s3_event(aws.bucket, key, etag)
    await services.queue.send(event)
    await services.queue.send(event)  # S3 may announce an object twice
    await drain(services)
    jobs = await services.pool.fetch("SELECT user_id, status, source_key, source_etag FROM jobs")
    assert [tuple(job) for job in jobs] == [("tenant-9", "COMPLETED", key, etag)]
    assert (
        await services.pool.fetchval("SELECT count(*) FROM contacts WHERE user_id = 'tenant-9'")
        == 2
    )
    assert aws.counts(aws.queues.dlq_url) == (0, 0)


async def test_test_events_and_keys_outside_the_pattern_make_no_job_and_no_loop(
    services: Services, aws: AwsResources
) -> None:
    aws.s3.put_object(Bucket=aws.bucket, Key="exports/t/j/all.csv", Body=b"x")
    await services.queue.send(
        json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": aws.bucket})
    )
    await services.queue.send(_s3_event(aws.bucket, "exports/t/j/all.csv", "e"))
    await services.queue.send(_s3_event(aws.bucket, "uploads/no-tenant-folder.csv", "e"))
    await drain(services)
    assert await services.pool.fetchval("SELECT count(*) FROM jobs") == 0
    assert aws.counts(aws.queues.queue_url) == (0, 0)
    assert aws.counts(aws.queues.dlq_url) == (0, 0)


_PUT_MANY = """
import sys
from concurrent.futures import ThreadPoolExecutor
from worker.local import AwsEmulator
s3 = AwsEmulator(server=None, endpoint_url=sys.argv[1]).client("s3")
keys = sys.stdin.read().split()
with ThreadPoolExecutor(8) as pool:
    list(pool.map(lambda key: s3.put_object(Bucket=sys.argv[2], Key=key, Body=b"e"), keys))
"""


def _put_many(aws: AwsResources, keys: list[str]) -> None:
    """Put many small objects from a process of their own (the S3 server in this one then
    has the interpreter to itself: about a third faster)."""
    subprocess.run(
        [sys.executable, "-c", _PUT_MANY, aws.emulator.endpoint_url, aws.bucket],
        input="\n".join(keys),
        text=True,
        check=True,
        timeout=300,
        cwd=ROOT,
    )


TYPES = ["Patients", "Appointments", "Providers", "Invoices", "Recalls"]


def _indici_keys(count: int) -> list[str]:
    """``count`` valid extract files over 20 batches (extraction dates), in nested prefixes."""
    keys = []
    for index in range(count):
        batch = index % 20
        extracted = datetime(2025, 8, 1, 8, 50, tzinfo=UTC) + timedelta(days=batch)
        date_to = extracted - timedelta(hours=3)
        date_from = date_to - timedelta(days=1)
        name = (
            f"685146545{TYPES[index % len(TYPES)]}_{date_from:%Y%m%d%H%M}_{date_to:%Y%m%d%H%M}"
            f"_{extracted:%y%m%d%H%M}"
        )
        keys.append(f"extracts/{extracted:%Y/%m/%d}/part-{index // 20:04d}/{name}")
    return keys


async def test_retention_removes_old_rows_and_exports_and_never_contacts(
    database_url: str, aws: AwsResources
) -> None:
    settings = make_settings(database_url, aws)
    async with open_services(settings) as services:
        producer = Producer(settings, services.pool, services.s3, services.queue)
        jobs = []
        for name in ("old", "recent", "failed"):
            rows = csv_bytes(
                [HEADER, [f"{name}@x.pt", "Ana", "Silva", "Acme"], ["bad", "B", "C", "D"]]
            )
            jobs.append(
                await producer.submit_key(
                    await _put(aws, f"uploads/t/{name}.csv", rows), tenant="t"
                )
            )
        await drain(services)
        old, recent, failed = (job.job_id for job in jobs)
        # NEEDS_REVIEW jobs: make them finished at various ages (consolidating first).
        await services.pool.execute(
            "UPDATE staging SET status = 'DISCARD' WHERE email IS NOT NULL AND email = 'bad'"
        )
        await services.pool.execute(
            "UPDATE jobs SET status = 'COMPLETED', finished_at = now() - interval '40 days'"
            " WHERE id = $1",
            old,
        )
        await services.pool.execute(
            "UPDATE jobs SET status = 'COMPLETED', finished_at = now() - interval '5 days'"
            " WHERE id = $1",
            recent,
        )
        await services.pool.execute(
            "UPDATE jobs SET status = 'FAILED', finished_at = now() - interval '100 days'"
            " WHERE id = $1",
            failed,
        )
        await services.pool.execute(
            "INSERT INTO contacts (user_id, email, email_normalized, job_id)"
            " VALUES ('t', 'kept@x.pt', 'kept@x.pt', $1)",
            old,
        )
        contacts_before = await services.pool.fetch("SELECT * FROM contacts ORDER BY id")
        assert len(_keys(aws, f"exports/t/{old}/")) == 3
        count_by_job = "SELECT count(*) FROM {} WHERE job_id = $1"
        items_before = {
            job: await services.pool.fetchval(count_by_job.format("issue_items"), job)
            for job in (old, recent, failed)
        }
        issues_before = await services.pool.fetch("SELECT * FROM issues ORDER BY id")
        assert all(items_before.values()), items_before

        listed = await purge(
            services.pool, services.s3, settings, completed_days=30, failed_days=90, dry_run=True
        )
        assert sorted(str(p.job_id) for p in listed) == sorted([str(old), str(failed)])
        assert await services.pool.fetchval("SELECT count(*) FROM staging") == 6

        purged = await purge(
            services.pool, services.s3, settings, completed_days=30, failed_days=90
        )
        assert {p.job_id: p.staging_rows for p in purged} == {old: 2, failed: 2}
        assert _keys(aws, f"exports/t/{old}/") == []
        assert len(_keys(aws, f"exports/t/{recent}/")) == 3
        remaining = await services.pool.fetch("SELECT DISTINCT job_id FROM staging")
        assert [row["job_id"] for row in remaining] == [recent]
        assert await services.pool.fetch("SELECT * FROM contacts ORDER BY id") == contacts_before
        # The purged rows' issue links go with them; the issues themselves stay.
        for job, items in ((old, 0), (failed, 0), (recent, items_before[recent])):
            assert await services.pool.fetchval(count_by_job.format("issue_items"), job) == items
        assert await services.pool.fetch("SELECT * FROM issues ORDER BY id") == issues_before
        assert (
            await purge(services.pool, services.s3, settings, completed_days=30, failed_days=90)
            == []
        )
        with pytest.raises(ActionRefused, match="removed by retention"):
            await export_links(
                services.pool, services.s3, services.queue, settings, old, tenant="t", actor="x"
            )


async def _put(aws: AwsResources, key: str, body: bytes) -> str:
    aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=body)
    return key


async def test_a_discovery_commit_held_open_past_any_delay_still_runs_its_job(
    services: Services, aws: AwsResources
) -> None:
    # Discovery's messages go after its commit: a commit that takes longer than any send
    # delay never lets a worker find no job and drop the message (it used to send inside
    # its transaction, delayed 5 s, and a slower commit stranded the job PENDING).
    aws.s3.put_object(Bucket=aws.bucket, Key="drop/t/contacts.csv", Body=CLEAN)
    found = await plan(
        services.pool,
        services.s3,
        aws.bucket,
        prefix="drop/",
        pattern=file_pattern(r"^drop/(?P<user>[^/]+)/[^/]+\.csv$"),
    )
    assert [candidate.obj.key for candidate in found.files] == ["drop/t/contacts.csv"]
    # Every commit that inserted a job takes 6 s (a deferred trigger, run at commit).
    await services.pool.execute(
        """
        CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN PERFORM pg_sleep(6); RETURN NULL; END $$;
        CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON jobs
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit();
        """
    )
    async with running(new_worker(services)):
        started = time.monotonic()
        (job_id,) = await enqueue(services.pool, services.queue, found.files, {})
        assert time.monotonic() - started >= 6
        await eventually(
            lambda: job_status_is(services.pool, job_id, "COMPLETED"), 30, "the job to run"
        )
    assert aws.counts(aws.queues.dlq_url) == (0, 0)
