"""A job and the words for its state: what the daemon, the flows and the operator commands
hand each other instead of raw rows and strings.

The database keeps its own CHECK constraints on these columns; ``tests/unit`` holds the
enums here and the constraints of the migrated schema equal.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

if TYPE_CHECKING:
    import asyncpg


class JobStatus(enum.StrEnum):
    """Where a job is in its life (``jobs.status``)."""

    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    NEEDS_REVIEW = "NEEDS_REVIEW"
    CONSOLIDATING = "CONSOLIDATING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


# What a job's message asks for (see worker.messages and worker.router).
JobAction = Literal["process", "reprocess", "retry", "export"]

# A job still on its way to a decision or to its contacts.
IN_PROGRESS = frozenset({JobStatus.PENDING, JobStatus.PROCESSING, JobStatus.CONSOLIDATING})
# A job whose exports can be written (its rows are decided).
EXPORTABLE = frozenset({JobStatus.NEEDS_REVIEW, JobStatus.COMPLETED})


class RowStatus(enum.StrEnum):
    """A staging row's state (``staging.status``)."""

    READY = "READY"
    ISSUE = "ISSUE"
    DISCARD = "DISCARD"
    SUCCESS = "SUCCESS"


class IssueType(enum.StrEnum):
    """What is wrong with a row (``issues.type``)."""

    MISSING_FIELD = "MISSING_FIELD"
    INVALID_EMAIL = "INVALID_EMAIL"
    FIELD_TOO_LONG = "FIELD_TOO_LONG"
    CONTROL_CHARACTERS = "CONTROL_CHARACTERS"
    ENCODING = "ENCODING"
    RAGGED_ROW = "RAGGED_ROW"
    FIELD_TOO_LARGE = "FIELD_TOO_LARGE"
    INVALID_PHONE = "INVALID_PHONE"
    DUPLICATE_IN_FILE = "DUPLICATE_IN_FILE"
    EXISTING_CONTACT = "EXISTING_CONTACT"
    CONTACT_CONFLICT = "CONTACT_CONFLICT"
    UNCLOSED_QUOTE = "UNCLOSED_QUOTE"


class ReviewAction(enum.StrEnum):
    """What a person or an operator did to a job (``review_actions.action``)."""

    EDIT = "edit"
    DISCARD = "discard"
    ACCEPT_SKIP = "accept_skip"
    ACCEPT_UPDATE = "accept_update"
    KEEP_ONE = "keep_one"
    REQUEST_REPROCESS = "request_reprocess"
    CANCEL = "cancel"
    RETRY = "retry"
    REQUEST_EXPORT = "request_export"
    REQUEUE = "requeue"


@dataclass(frozen=True)
class Job:
    """One row of ``jobs``. The tenant is ``tenant`` here (the column is ``user_id``)."""

    id: UUID
    tenant: str
    status: JobStatus
    source_bucket: str
    source_key: str
    source_version_id: str | None = None
    source_etag: str | None = None
    source_size_bytes: int | None = None
    source_sha256: str | None = None
    original_filename: str | None = None
    detected_encoding: str | None = None
    detected_dialect: dict[str, Any] | None = None
    column_mapping: dict[str, Any] | None = None
    mapping_confidence: float | None = None
    header: list[str] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    total_rows: int | None = None
    processed_rows: int = 0
    valid_rows: int = 0
    issue_rows: int = 0
    unresolved_issues: int = 0
    bytes_read: int = 0
    checkpoint_row: int = 0
    attempts: int = 0
    error: str | None = None
    exports: dict[str, Any] = field(default_factory=dict)
    idempotency_key: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    decided_at: datetime | None = None
    purged_at: datetime | None = None
    swept_at: datetime | None = None
    reprocess_requested_at: datetime | None = None

    @classmethod
    def from_record(cls, record: Mapping[str, Any] | asyncpg.Record) -> Job:
        """A job from a ``jobs`` row (any subset of its columns holding at least the id,
        tenant, status and object; columns it does not know are ignored)."""
        values = {name: record[name] for name in _COLUMNS if name in record}
        values["tenant"] = record["user_id"]
        values["status"] = JobStatus(record["status"])
        for name in ("options", "exports"):
            if values.get(name) is None:
                values.pop(name, None)
        return cls(**values)

    def as_record(self) -> dict[str, Any]:
        """The job as its ``jobs`` row (``user_id`` for the tenant), for JSON output."""
        record = {f.name: getattr(self, f.name) for f in fields(self)}
        record = {"id": record.pop("id"), "user_id": record.pop("tenant"), **record}
        return record

    @property
    def reprocess_pending(self) -> bool:
        """Whether a person asked for reprocessing after the job's last decision."""
        requested, decided = self.reprocess_requested_at, self.decided_at
        return requested is not None and (decided is None or requested > decided)


_COLUMNS = frozenset(f.name for f in fields(Job)) - {"tenant"}
