"""The message bodies the worker accepts, as pydantic models.

- :class:`JobMessage` ``{"version": 1, "job_id": "...", "action": "process"}``: sent by
  producers, the review and jobs commands and ``dlq replay`` (actions: ``process``,
  ``reprocess``, ``retry``, ``export``).
- :class:`S3ObjectCreated`: an S3 event notification for ``ObjectCreated:*`` (the bucket
  announces an upload; the worker creates the job itself).
- :class:`S3TestEvent`: the ``s3:TestEvent`` S3 sends once when a notification is set up.

Anything else raises :class:`~worker.errors.PoisonMessage` with the reason.
"""

from __future__ import annotations

import json
from typing import Any, Literal
from urllib.parse import unquote_plus
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from worker.errors import PoisonMessage
from worker.model import JobAction


class JobMessage(BaseModel):
    """Run (or re-run) one job."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    job_id: UUID
    action: JobAction = "process"

    def body(self) -> str:
        """The JSON body to send."""
        return self.model_dump_json()


class S3Object(BaseModel):
    """One object named by an S3 event record."""

    model_config = ConfigDict(frozen=True)

    bucket: str
    key: str
    size_bytes: int | None = None
    etag: str | None = None
    version_id: str | None = None


class S3ObjectCreated(BaseModel):
    """S3 announced one or more new objects."""

    model_config = ConfigDict(frozen=True)

    objects: tuple[S3Object, ...]


class S3TestEvent(BaseModel):
    """The notification S3 sends when an event configuration is created; nothing to do."""

    model_config = ConfigDict(frozen=True)

    bucket: str | None = None


Message = JobMessage | S3ObjectCreated | S3TestEvent


class _S3EventObject(BaseModel):
    key: str
    size: int | None = None
    eTag: str | None = None
    versionId: str | None = None


class _S3EventBucket(BaseModel):
    name: str


class _S3EventEntity(BaseModel):
    bucket: _S3EventBucket
    object: _S3EventObject


class _S3EventRecord(BaseModel):
    eventSource: Literal["aws:s3"]
    eventName: str
    s3: _S3EventEntity


class _S3Event(BaseModel):
    Records: list[_S3EventRecord] = Field(min_length=1)


def parse_message(body: str) -> Message:
    """The message in ``body``; PoisonMessage (with the reason) if it is none of ours."""
    try:
        data: Any = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise PoisonMessage(f"body is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise PoisonMessage(f"body is JSON but not an object: {type(data).__name__}")

    if data.get("Event") == "s3:TestEvent":
        return S3TestEvent(bucket=data.get("Bucket"))
    if "Records" in data:
        return _parse_s3_event(data)
    if "job_id" in data or "action" in data:
        try:
            return JobMessage.model_validate(data)
        except ValidationError as error:
            raise PoisonMessage(f"not a valid job message: {_first_problem(error)}") from None
    raise PoisonMessage(
        'unknown message shape: expected a job message {"job_id", "action"} or an S3 event'
    )


def _parse_s3_event(data: dict[str, Any]) -> S3ObjectCreated:
    try:
        event = _S3Event.model_validate(data)
    except ValidationError as error:
        raise PoisonMessage(f"not a valid S3 event: {_first_problem(error)}") from None
    objects = tuple(
        S3Object(
            bucket=record.s3.bucket.name,
            # Keys arrive URL-encoded, with '+' for spaces.
            key=unquote_plus(record.s3.object.key),
            size_bytes=record.s3.object.size,
            etag=(record.s3.object.eTag or "").strip('"') or None,
            version_id=record.s3.object.versionId,
        )
        for record in event.Records
        if record.eventName.startswith("ObjectCreated:")
    )
    if not objects:
        names = sorted({record.eventName for record in event.Records})
        raise PoisonMessage(f"S3 event with no ObjectCreated record: {', '.join(names)}")
    return S3ObjectCreated(objects=objects)


def _first_problem(error: ValidationError) -> str:
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem.get("loc", ())) or "body"
    return f"{where}: {problem.get('msg', 'invalid')}"
