"""The harness is real: fresh state per test, HTTP to the emulator, a real PostgreSQL."""

from __future__ import annotations

import asyncpg
import pytest

from tests.conftest import AwsResources
from worker.services import Services


@pytest.mark.parametrize("attempt", [1, 2])
async def test_a_row_written_in_one_test_is_absent_in_the_next(
    db: asyncpg.Connection, attempt: int
) -> None:
    # Whichever of the two runs second would see the first one's row if state leaked.
    existing = await db.fetchval(
        "SELECT count(*) FROM contacts WHERE email_normalized = 'leak@example.com'"
    )
    assert existing == 0
    await db.execute(
        "INSERT INTO contacts (user_id, email, email_normalized) "
        "VALUES ('tenant-1', 'Leak@example.com', 'leak@example.com')"
    )
    assert await db.fetchval("SELECT count(*) FROM contacts") == 1


async def test_the_database_is_a_real_postgresql(db: asyncpg.Connection) -> None:
    version = await db.fetchval("SHOW server_version_num")
    assert int(version) >= 140000
    # The constraints that carry the guarantees exist.
    constraints = {row["conname"] for row in await db.fetch("SELECT conname FROM pg_constraint")}
    # (job_id, row_number): a staged row once per job (the row hash begins with the number).
    assert {"staging_pkey", "issues_key_uq", "contacts_user_email_uq"} <= constraints


async def test_a_message_sent_to_the_queue_is_received_over_http(
    services: Services, aws: AwsResources
) -> None:
    assert aws.emulator.endpoint_url.startswith("http://127.0.0.1:")
    message_id = await services.queue.send('{"hello": "queue"}')
    # Received by a different client (boto3, synchronous) over the same HTTP endpoint.
    received = aws.queue_messages()
    assert [(m["MessageId"], m["Body"]) for m in received] == [(message_id, '{"hello": "queue"}')]


async def test_each_test_gets_its_own_bucket_and_queues(aws: AwsResources) -> None:
    assert aws.queues.queue_url != aws.queues.dlq_url
    assert aws.counts(aws.queues.queue_url) == (0, 0)
    assert aws.s3.list_objects_v2(Bucket=aws.bucket).get("KeyCount") == 0
