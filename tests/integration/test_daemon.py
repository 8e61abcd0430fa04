"""The daemon against the real PostgreSQL and the S3/SQS server: exactly once under
at-least-once delivery."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import asyncpg
import pytest

from tests.conftest import TEST_MAX_RECEIVE_COUNT, AwsResources, WorkerFactory, make_settings
from tests.flows import (
    RecordingFlows,
    complete,
    fail_permanently,
    fail_transiently,
    slow,
)
from tests.outage import database_proxy
from tests.support import drain, eventually, job_status, job_status_is, new_worker, running
from worker.dlq import list_dead_letters, replay_dead_letters
from worker.errors import ServiceUnavailable
from worker.flows import FlowContext
from worker.messages import JobMessage
from worker.services import Services, open_services
from worker.settings import Settings
from worker.sqs import DEAD_LETTER_REASON_ATTRIBUTE
from worker.store.jobs import create_job, fetch_job


async def _new_job(pool: asyncpg.Pool, aws: AwsResources, status: str = "PENDING") -> uuid.UUID:
    job_id = await create_job(pool, tenant="tenant-1", bucket=aws.bucket, key="uploads/a.csv")
    if status != "PENDING":
        await pool.execute("UPDATE jobs SET status = $2 WHERE id = $1", job_id, status)
    return job_id


async def _send_job(services: Services, job_id: uuid.UUID, action: str = "process") -> None:
    await services.queue.send(JobMessage(job_id=job_id, action=action).body())  # type: ignore[arg-type]


async def test_run_once_processes_the_queue_and_exits(
    services: Services, settings: Settings, aws: AwsResources
) -> None:
    flows = RecordingFlows(complete)
    job_ids = [await _new_job(services.pool, aws) for _ in range(3)]
    for job_id in job_ids:
        await _send_job(services, job_id)
    await drain(services, settings, flows, 60)
    assert sorted(str(call.job_id) for call in flows.calls) == sorted(map(str, job_ids))
    assert {call.route for call in flows.calls} == {"initial"}
    for job_id in job_ids:
        assert await job_status(services.pool, job_id) == "COMPLETED"
    assert aws.counts(aws.queues.queue_url) == (0, 0)


async def test_a_job_three_times_longer_than_the_visibility_timeout_runs_once(
    database_url: str, aws: AwsResources
) -> None:
    # Visibility 2 s, the flow takes 6.5 s; a second worker polls the same queue throughout.
    settings = make_settings(database_url, aws, visibility_timeout_s=2)
    flows = RecordingFlows(slow(6.5))
    async with open_services(settings) as services:
        job_id = await _new_job(services.pool, aws)
        await _send_job(services, job_id)
        first = new_worker(services, flows, settings)
        second = new_worker(services, flows, settings)
        async with running(first), running(second):
            await eventually(lambda: job_status(services.pool, job_id), 5, "the job to start")
            await eventually(
                lambda: aws.counts(aws.queues.queue_url) == (0, 0), 20, "the message to be deleted"
            )
        assert len(flows.calls) == 1
        assert await job_status(services.pool, job_id) == "COMPLETED"


async def test_the_same_job_delivered_twice_at_once_runs_once(
    services: Services, settings: Settings, aws: AwsResources, make_worker: WorkerFactory
) -> None:
    flows = RecordingFlows(slow(2.0))
    job_id = await _new_job(services.pool, aws)
    await _send_job(services, job_id)
    await _send_job(services, job_id)
    # Two workers, one message each: the loser of the lock puts its copy back with a delay,
    # then receives it again and finds the job done.
    first = make_worker(flows, settings, concurrency=1)
    second = make_worker(flows, settings, concurrency=1)
    async with running(first), running(second):
        await eventually(
            lambda: aws.counts(aws.queues.queue_url) == (0, 0), 30, "both copies to be settled"
        )
    assert len(flows.calls) == 1
    assert await job_status(services.pool, job_id) == "COMPLETED"


async def test_duplicates_of_a_long_job_wait_for_it_and_never_reach_the_dlq(
    services: Services, settings: Settings, aws: AwsResources, make_worker: WorkerFactory
) -> None:
    # The job runs 6 s; a turned-away copy comes back every 1 s (lock_retry_delay_s) and
    # the queue dead-letters a message on its 4th receive: 3 x 1 s < 6 s.
    flows = RecordingFlows(slow(6.0))
    job_id = await _new_job(services.pool, aws)
    for _ in range(3):
        await _send_job(services, job_id)
    single = settings.model_copy(update={"concurrency": 1})
    first = make_worker(flows, single)
    second = make_worker(flows, single)
    async with running(first), running(second):
        await eventually(
            lambda: aws.counts(aws.queues.queue_url) == (0, 0), 40, "every copy to be settled"
        )
    assert len(flows.calls) == 1
    assert await job_status(services.pool, job_id) == "COMPLETED"
    assert aws.counts(aws.queues.dlq_url) == (0, 0)


async def test_a_give_up_the_database_cannot_record_carries_its_reason_to_the_dlq(
    database_url: str, aws: AwsResources
) -> None:
    # The database goes away as the job's last attempt fails: the job cannot be marked
    # FAILED, so the dead-lettered message must say why itself.
    proxy, proxied_url = database_proxy(database_url)
    await proxy.up()
    try:
        settings = make_settings(proxied_url(), aws)

        async def last_attempt_loses_the_database(context: FlowContext) -> None:
            if int(context.job.attempts) >= TEST_MAX_RECEIVE_COUNT:
                await proxy.down()
            raise ServiceUnavailable("S3 answered 503 SlowDown")

        flows = RecordingFlows(last_attempt_loses_the_database)
        async with open_services(settings) as services:
            job_id = await _new_job(services.pool, aws)
            await _send_job(services, job_id)
            worker = new_worker(services, flows, settings)
            async with running(worker):
                await eventually(
                    lambda: aws.counts(aws.queues.dlq_url)[0] == 1, 60, "the dead letter"
                )
            await proxy.up()
    finally:
        await proxy.down()
    received = aws.sqs.receive_message(
        QueueUrl=aws.queues.dlq_url, MessageAttributeNames=["All"], WaitTimeSeconds=1
    )["Messages"]
    reason = received[0]["MessageAttributes"][DEAD_LETTER_REASON_ATTRIBUTE]["StringValue"]
    assert "S3 answered 503 SlowDown (gave up after 3 attempts)" in reason
    assert "the job could not be marked FAILED" in reason


def _record_receives(services: Services) -> list[int]:
    """The max_messages of every receive the queue is asked for from now on."""
    asked: list[int] = []
    receive = services.queue.receive

    async def recording_receive(max_messages: int, *args: Any) -> Any:
        asked.append(max_messages)
        return await receive(max_messages, *args)

    services.queue.receive = recording_receive  # type: ignore[method-assign]
    return asked


async def test_never_receives_more_than_free_slots(
    services: Services, settings: Settings, aws: AwsResources, make_worker: WorkerFactory
) -> None:
    flows = RecordingFlows(slow(0.5))
    for _ in range(7):
        await _send_job(services, await _new_job(services.pool, aws))
    asked = _record_receives(services)
    worker = make_worker(flows, settings, concurrency=2)
    await asyncio.wait_for(worker.run(once=True), 60)
    assert len(flows.calls) == 7
    assert flows.most_running <= 2
    assert asked and max(asked) <= 2


async def test_short_polling_does_not_spin_while_a_job_runs(
    services: Services, settings: Settings, aws: AwsResources, make_worker: WorkerFactory
) -> None:
    """With INGEST_WAIT_TIME_S=0 an empty receive returns at once; while a 2-second job
    runs in one of four slots, the loop must pause between polls, not ask SQS (and burn
    the CPU the job needs) thousands of times."""
    flows = RecordingFlows(slow(2.0))
    await _send_job(services, await _new_job(services.pool, aws))
    asked = _record_receives(services)
    worker = make_worker(flows, settings, concurrency=4, wait_time_s=0)
    await asyncio.wait_for(worker.run(once=True), 60)
    assert len(flows.calls) == 1
    # One poll every SHORT_POLL_PAUSE_S (0.25 s) over 2 s: about 9; without the pause,
    # hundreds against the local server.
    assert 2 <= len(asked) <= 20, asked


async def test_transient_errors_back_off_then_the_job_completes(
    services: Services, settings: Settings, aws: AwsResources, make_worker: WorkerFactory
) -> None:
    flows = RecordingFlows(fail_transiently(times=2))
    job_id = await _new_job(services.pool, aws)
    await _send_job(services, job_id)
    worker = make_worker(flows, settings)
    async with running(worker):
        await eventually(lambda: len(flows.calls) >= 1, 10, "the first attempt")
        # After the failure the message is invisible (backing off), not gone.
        await eventually(lambda: aws.counts(aws.queues.queue_url) == (0, 1), 5, "the backoff")
        job = await fetch_job(services.pool, job_id)
        assert job is not None and "503 SlowDown" in (job.error or "")
        await eventually(lambda: job_status(services.pool, job_id), 30, "completion")
        await eventually(
            lambda: job_status_is(services.pool, job_id, "COMPLETED"), 30, "completion"
        )
    assert [call.attempts for call in flows.calls] == [1, 2, 3]
    gaps = [
        later.started - earlier.started
        for earlier, later in zip(flows.calls, flows.calls[1:], strict=False)
    ]
    # retry_base_delay_s is 1: each retry waits at least that long in the queue.
    assert all(gap >= 0.9 for gap in gaps), gaps
    assert aws.counts(aws.queues.queue_url) == (0, 0)
    assert aws.counts(aws.queues.dlq_url) == (0, 0)


async def test_a_permanent_error_fails_the_job_with_its_reason_and_never_retries(
    services: Services, settings: Settings, aws: AwsResources, make_worker: WorkerFactory
) -> None:
    flows = RecordingFlows(fail_permanently)
    job_id = await _new_job(services.pool, aws)
    await _send_job(services, job_id)
    worker = make_worker(flows, settings)
    async with running(worker):
        await eventually(lambda: job_status_is(services.pool, job_id, "FAILED"), 10, "FAILED")
        await eventually(lambda: aws.counts(aws.queues.queue_url) == (0, 0), 5, "deletion")
        await asyncio.sleep(2)  # long enough for any retry to have shown up
    job = await fetch_job(services.pool, job_id)
    assert job is not None
    assert job.error == "the file is a PNG image, not CSV or Excel"
    assert job.finished_at is not None
    assert len(flows.calls) == 1
    assert aws.counts(aws.queues.dlq_url) == (0, 0)


async def test_a_job_that_always_fails_ends_in_the_dlq_and_replay_completes_it(
    services: Services, settings: Settings, aws: AwsResources, make_worker: WorkerFactory
) -> None:
    flows = RecordingFlows(fail_transiently(times=1000))
    job_id = await _new_job(services.pool, aws)
    await _send_job(services, job_id)
    worker = make_worker(flows, settings)
    async with running(worker):
        await eventually(lambda: job_status_is(services.pool, job_id, "FAILED"), 30, "FAILED")
        # SQS moves the message on the receive after the limit.
        await eventually(lambda: aws.counts(aws.queues.dlq_url)[0] == 1, 15, "the DLQ")
    assert len(flows.calls) == TEST_MAX_RECEIVE_COUNT
    job = await fetch_job(services.pool, job_id)
    assert job is not None
    assert "503 SlowDown" in job.error and f"after {TEST_MAX_RECEIVE_COUNT} attempts" in job.error

    (entry,) = await list_dead_letters(services.queue)
    assert str(job_id) in entry.body
    assert aws.counts(aws.queues.dlq_url)[0] == 1  # listing leaves it there

    dry = await replay_dead_letters(services.queue, services.pool, dry_run=True)
    assert [outcome.moved for outcome in dry] == [True]
    assert await job_status(services.pool, job_id) == "FAILED"

    # The fault is fixed; replay brings the message back and the job completes once.
    flows.behaviour = complete
    (outcome,) = await replay_dead_letters(services.queue, services.pool)
    assert outcome.moved and "FAILED -> PENDING" in outcome.note
    assert await job_status(services.pool, job_id) == "PENDING"
    calls_before = len(flows.calls)
    await drain(services, settings, flows, 60)
    assert await job_status(services.pool, job_id) == "COMPLETED"
    assert len(flows.calls) == calls_before + 1
    assert aws.counts(aws.queues.dlq_url) == (0, 0)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("this is not json", "body is not JSON"),
        ('{"job": 42}', "unknown message shape"),
        ('{"job_id": "6b0c3f4e-8a59-4b7e-9d7e-0d1f2a3b4c5d", "action": "boom"}', "action"),
    ],
)
async def test_poison_messages_go_to_the_dlq_on_their_first_receive(
    services: Services, settings: Settings, aws: AwsResources, body: str, reason: str
) -> None:
    await services.queue.send(body)
    flows = RecordingFlows(complete)
    await drain(services, settings, flows, 30)
    assert flows.calls == []
    assert aws.counts(aws.queues.queue_url) == (0, 0)
    (dead,) = aws.queue_messages(aws.queues.dlq_url)
    assert dead["Body"] == body
    assert dead["Attributes"]["ApproximateReceiveCount"] == "1"
    assert reason in dead["MessageAttributes"][DEAD_LETTER_REASON_ATTRIBUTE]["StringValue"]
    # Poison is never replayed into the job queue.
    aws.sqs.change_message_visibility(
        QueueUrl=aws.queues.dlq_url, ReceiptHandle=dead["ReceiptHandle"], VisibilityTimeout=0
    )
    (outcome,) = await replay_dead_letters(services.queue, services.pool)
    assert not outcome.moved and "not replayable" in outcome.note


@pytest.mark.parametrize("status", ["COMPLETED", "CANCELLED", "FAILED"])
async def test_finished_jobs_are_acknowledged_without_work(
    services: Services, settings: Settings, aws: AwsResources, status: str
) -> None:
    flows = RecordingFlows(complete)
    job_id = await _new_job(services.pool, aws, status=status)
    await _send_job(services, job_id)
    await drain(services, settings, flows, 30)
    assert flows.calls == []
    assert await job_status(services.pool, job_id) == status
    assert aws.counts(aws.queues.queue_url) == (0, 0)


async def test_a_retry_message_runs_a_failed_job_again(
    services: Services, settings: Settings, aws: AwsResources
) -> None:
    flows = RecordingFlows(complete)
    job_id = await _new_job(services.pool, aws, status="FAILED")
    await _send_job(services, job_id, action="retry")
    await drain(services, settings, flows, 30)
    assert [call.route for call in flows.calls] == ["initial"]
    assert await job_status(services.pool, job_id) == "COMPLETED"


async def test_a_message_for_an_unknown_job_is_deleted(
    services: Services, settings: Settings, aws: AwsResources
) -> None:
    flows = RecordingFlows(complete)
    await _send_job(services, uuid.uuid4())
    await drain(services, settings, flows, 30)
    assert flows.calls == []
    assert aws.counts(aws.queues.queue_url) == (0, 0)
    assert aws.counts(aws.queues.dlq_url) == (0, 0)


async def test_the_route_follows_the_job_state(
    services: Services, settings: Settings, aws: AwsResources
) -> None:
    flows = RecordingFlows(complete)
    review = await _new_job(services.pool, aws, status="NEEDS_REVIEW")
    await services.pool.execute(
        "INSERT INTO staging (job_id, row_number, row_hash, raw, status) "
        "VALUES ($1, 1, '\\x01', '[]', 'ISSUE')",
        review,
    )
    # A person asked for reprocessing (Review.request_reprocess records it).
    await services.pool.execute(
        "UPDATE jobs SET reprocess_requested_at = now() WHERE id = $1", review
    )
    consolidating = await _new_job(services.pool, aws, status="CONSOLIDATING")
    await _send_job(services, review, action="reprocess")
    await _send_job(services, consolidating)
    await drain(services, settings, flows, 30)
    assert {(str(call.job_id), call.route) for call in flows.calls} == {
        (str(review), "reprocess"),
        (str(consolidating), "consolidate"),
    }


async def test_shutdown_interrupts_at_a_checkpoint_and_releases_the_message(
    services: Services, settings: Settings, aws: AwsResources, make_worker: WorkerFactory
) -> None:
    flows = RecordingFlows(slow(60))
    job_id = await _new_job(services.pool, aws)
    await _send_job(services, job_id)
    worker = make_worker(flows, settings)
    task = asyncio.create_task(worker.run())
    await eventually(lambda: flows.running == 1, 10, "the flow to start")
    stopped_at = time.monotonic()
    worker.request_stop()
    await asyncio.wait_for(task, 10)
    assert time.monotonic() - stopped_at < 3
    # Visible again at once, the job untouched and not failed.
    assert aws.counts(aws.queues.queue_url) == (1, 0)
    assert await job_status(services.pool, job_id) == "PENDING"


async def test_past_the_grace_period_a_stuck_flow_is_cancelled_and_released(
    database_url: str, aws: AwsResources
) -> None:
    settings = make_settings(database_url, aws, shutdown_grace_s=0.5)

    async def never_checkpoints(context: Any) -> None:
        await asyncio.sleep(60)

    flows = RecordingFlows(never_checkpoints)
    async with open_services(settings) as services:
        await _send_job(services, await _new_job(services.pool, aws))
        worker = new_worker(services, flows, settings)
        task = asyncio.create_task(worker.run())
        await eventually(lambda: flows.running == 1, 10, "the flow to start")
        stopped_at = time.monotonic()
        worker.request_stop()
        await asyncio.wait_for(task, 10)
        assert time.monotonic() - stopped_at < 3
        assert aws.counts(aws.queues.queue_url) == (1, 0)


async def test_a_lost_receipt_handle_stops_the_flow_at_its_next_checkpoint(
    database_url: str, aws: AwsResources
) -> None:
    settings = make_settings(database_url, aws, visibility_timeout_s=2)
    flows = RecordingFlows(slow(30))
    async with open_services(settings) as services:
        job_id = await _new_job(services.pool, aws)
        await _send_job(services, job_id)
        worker = new_worker(services, flows, settings)
        async with running(worker):
            await eventually(lambda: flows.running == 1, 10, "the flow to start")
            # Someone else deletes the message (an operator purging, a second consumer after a
            # lapse): the next heartbeat finds its handle gone and the flow stops.
            handle = next(iter(worker._unsettled.values())).receipt_handle
            aws.sqs.delete_message(QueueUrl=aws.queues.queue_url, ReceiptHandle=handle)
            await eventually(lambda: flows.running == 0, 10, "the flow to stop")
        assert await job_status(services.pool, job_id) == "PENDING"
