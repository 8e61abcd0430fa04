"""The bottom of the house: the words every layer shares (a job and its statuses, the
staging row format). It imports nothing from the rest of the worker."""

from worker.model.jobs import (
    EXPORTABLE,
    IN_PROGRESS,
    IssueType,
    Job,
    JobAction,
    JobStatus,
    ReviewAction,
    RowStatus,
)
from worker.model.rows import (
    CONTACT_FIELDS,
    FULL_NAME,
    MAPPABLE_FIELDS,
    RAW_ESCAPED,
    RAW_SEPARATOR,
    REQUIRED_DEFAULT,
    STAGING_COLUMNS,
    RowIssue,
    StagedRows,
    decode_raw,
    encode_raw,
    encode_raws,
)

__all__ = [
    "CONTACT_FIELDS",
    "EXPORTABLE",
    "FULL_NAME",
    "IN_PROGRESS",
    "MAPPABLE_FIELDS",
    "RAW_ESCAPED",
    "RAW_SEPARATOR",
    "REQUIRED_DEFAULT",
    "STAGING_COLUMNS",
    "IssueType",
    "Job",
    "JobAction",
    "JobStatus",
    "ReviewAction",
    "RowIssue",
    "RowStatus",
    "StagedRows",
    "decode_raw",
    "encode_raw",
    "encode_raws",
]
