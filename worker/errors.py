"""The exceptions the worker raises, and what each means for a message and its job.

::

    IngestError
    ├── ConfigError              a setting is wrong; the command exits at start
    ├── StartupCheckError        a dependency is unreachable at start (names the setting)
    ├── PoisonMessage            a message body that can never be processed: dead-lettered at once
    ├── Interrupted              shutdown or lost lease: the flow stopped at a checkpoint;
    │                            the message is released for another worker, no attempt spent
    ├── JobGone                  the job was cancelled or deleted while a flow ran: the flow
    │                            stops, its transaction rolls back, the message is deleted
    ├── ActionRefused            a review or jobs command that the job's state or tenant
    │                            does not allow (the command says why; nothing changed)
    ├── PermanentError           never retried: the job is FAILED with the reason, message deleted
    │   ├── JobInvalid           the job row cannot be run (bad options, missing source)
    │   ├── ObjectMissing        the S3 object (or the pinned version) does not exist
    │   ├── ObjectChanged        the S3 object changed since the job started
    │   ├── UnsupportedFile      not a format the worker reads (.xls, PNG, binary)
    │   └── UnreadableFile       a supported format that is broken (corrupt, encrypted, bomb)
    └── TransientError           retried with backoff until the queue's redrive limit
        └── ServiceUnavailable   S3, SQS or PostgreSQL throttled, failed or went away

Bad rows are never exceptions: they are data (issues on the job). Errors from libraries
(botocore, asyncpg, aiohttp) are classified by :mod:`worker.retry`, not wrapped here.
Each class's docstring is its default message.
"""

from __future__ import annotations


class IngestError(Exception):
    """The ingestion worker failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip().splitlines()[0])

    @property
    def message(self) -> str:
        """The human-readable reason, as shown on a job or in a log line."""
        return str(self.args[0])


class ConfigError(IngestError):
    """The configuration is invalid."""


class StartupCheckError(IngestError):
    """A service the worker needs cannot be reached."""

    def __init__(self, setting: str, message: str) -> None:
        self.setting = setting
        super().__init__(f"{setting}: {message}")


class PoisonMessage(IngestError):
    """The message can never be processed."""


class Interrupted(IngestError):
    """The flow was stopped at a checkpoint before it finished."""


class JobGone(IngestError):
    """The job was cancelled or deleted while its flow ran."""


class ActionRefused(IngestError):
    """The action is not allowed on this job as it stands."""


class PermanentError(IngestError):
    """The job cannot succeed as it is; retrying would not help."""


class JobInvalid(PermanentError):
    """The job cannot be run as it is recorded."""


class ObjectMissing(PermanentError):
    """The uploaded object does not exist in S3."""


class ObjectChanged(PermanentError):
    """The uploaded object changed since the job started."""


class UnsupportedFile(PermanentError):
    """The file is not in a format the worker reads (CSV, TSV, XLSX, XLSM)."""


class UnreadableFile(PermanentError):
    """The file is damaged or protected and cannot be read."""


class ExportFailed(IngestError):
    """The exports could not be written; the failure is recorded on the job (the sweep and
    ``jobs exports`` ask for them again)."""


class TransientError(IngestError):
    """A temporary failure; the job will be retried."""


class ServiceUnavailable(TransientError):
    """A service the worker depends on is unavailable."""
