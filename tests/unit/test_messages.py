"""Message parsing: job messages, S3 events, and the poison that must never loop."""

from __future__ import annotations

import json
import uuid

import pytest

from worker.errors import PoisonMessage
from worker.messages import JobMessage, S3ObjectCreated, S3TestEvent, parse_message


def test_a_job_message_round_trips() -> None:
    message = JobMessage(job_id=uuid.uuid4(), action="reprocess")
    assert parse_message(message.body()) == message
    assert json.loads(message.body())["version"] == 1


def test_action_defaults_to_process() -> None:
    job_id = uuid.uuid4()
    assert parse_message(json.dumps({"job_id": str(job_id)})) == JobMessage(job_id=job_id)


def test_the_s3_test_event_is_recognised() -> None:
    body = json.dumps(
        {
            "Service": "Amazon S3",
            "Event": "s3:TestEvent",
            "Time": "2026-11-22T10:00:00Z",
            "Bucket": "uploads",
            "RequestId": "R",
            "HostId": "H",
        }
    )
    assert parse_message(body) == S3TestEvent(bucket="uploads")


def test_an_object_created_event_decodes_the_key() -> None:
    body = json.dumps(
        {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "eventName": "ObjectCreated:Put",
                    "s3": {
                        "bucket": {"name": "uploads"},
                        "object": {
                            "key": "uploads/t1/My+File%C3%A9.csv",
                            "size": 42,
                            "eTag": "abc",
                            "versionId": "v1",
                        },
                    },
                }
            ]
        }
    )
    parsed = parse_message(body)
    assert isinstance(parsed, S3ObjectCreated)
    (obj,) = parsed.objects
    assert (obj.bucket, obj.key, obj.size_bytes, obj.etag, obj.version_id) == (
        "uploads",
        "uploads/t1/My Fileé.csv",
        42,
        "abc",
        "v1",
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json at all", "body is not JSON"),
        ("[1, 2]", "not an object"),
        ('{"hello": "world"}', "unknown message shape"),
        ('{"job_id": "not-a-uuid"}', "job_id"),
        ('{"job_id": "6b0c3f4e-8a59-4b7e-9d7e-0d1f2a3b4c5d", "action": "explode"}', "action"),
        ('{"job_id": "6b0c3f4e-8a59-4b7e-9d7e-0d1f2a3b4c5d", "extra": 1}', "extra"),
        ('{"job_id": "6b0c3f4e-8a59-4b7e-9d7e-0d1f2a3b4c5d", "version": 2}', "version"),
        ('{"Records": []}', "not a valid S3 event"),
        (
            '{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectRemoved:Delete",'
            ' "s3": {"bucket": {"name": "b"}, "object": {"key": "k"}}}]}',
            "no ObjectCreated",
        ),
    ],
)
def test_poison_says_why(body: str, reason: str) -> None:
    with pytest.raises(PoisonMessage, match=reason):
        parse_message(body)
