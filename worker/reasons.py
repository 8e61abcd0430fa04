"""One line of reason for an error, as a person reads it on a failed job, in a log line or
on a dead letter: what happened first (the database or S3/SQS went away), then the
library's words. Used by the retry policy, the daemon and the flows."""

from __future__ import annotations

import asyncpg
from asyncpg.exceptions._base import InternalClientError
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from worker.errors import Interrupted, JobGone, PermanentError, PoisonMessage, TransientError


def describe(error: BaseException) -> str:
    """A one-line, human-readable reason for ``error``, as stored on a failed job: what
    happened first (the database or S3/SQS went away), then the library's words."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    name = type(error).__name__
    if isinstance(error, PermanentError | TransientError | Interrupted | PoisonMessage | JobGone):
        return text or name
    detail = f"{name}: {text}" if text else name
    if isinstance(
        error,
        asyncpg.InterfaceError
        | InternalClientError
        | asyncpg.PostgresConnectionError
        | asyncpg.exceptions.OperatorInterventionError,
    ):
        return f"the database connection was lost (a restart or a cut connection): {detail}"
    if isinstance(error, EndpointConnectionError | ConnectionClosedError):
        return f"S3/SQS could not be reached: {detail}"
    if isinstance(error, ConnectionRefusedError):
        # Raised as is by asyncpg's connect (the S3/SQS clients wrap theirs, above).
        return (
            f"a connection was refused (the server is down or not accepting connections): {detail}"
        )
    if isinstance(error, ReadTimeoutError):
        return f"S3/SQS did not answer in time: {detail}"
    return detail
