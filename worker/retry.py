"""The retry policy: a pure function from (error, receive count) to what to do.

It does no I/O, so every branch is tested alone (``tests/unit/test_retry.py``).

- :class:`~worker.errors.Interrupted` -> RELEASE: visible again at once, no attempt lost.
- :class:`~worker.errors.JobGone` -> DROP: the job was cancelled or deleted meanwhile; the
  message is deleted and the job left as it is.
- Errors in :data:`NEVER_RETRIED` -> FAIL: the job is FAILED with the reason, the message
  deleted.
- Transient errors (throttling, 5xx, connection loss, database restarts, serialisation
  failures) -> RETRY after a backoff that grows four-fold with half of it fixed, so the
  queue's receives span minutes of outage; unexpected ones -> RETRY after an exponential
  backoff with full jitter; until the receive count reaches the queue's limit -> GIVE_UP:
  the job is FAILED with the last error and the message goes to the dead-letter queue.

Unexpected errors are retried rather than failed: a bug fixed in the next release can then
finish the job from the dead-letter queue with ``dlq replay``.
"""

from __future__ import annotations

import asyncio
import enum
import random
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
from asyncpg.exceptions._base import InternalClientError
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from worker.errors import (
    Interrupted,
    JobGone,
    PermanentError,
    PoisonMessage,
    TransientError,
)
from worker.reasons import describe

# Errors that retrying can never fix.
NEVER_RETRIED: tuple[type[BaseException], ...] = (PermanentError, PoisonMessage)

# S3/SQS error codes that mean "slow down" or "try again".
_THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "ServiceUnavailable",
        "InternalFailure",
    }
)

# PostgreSQL SQLSTATE classes and codes that are worth a retry.
_TRANSIENT_SQLSTATE_CLASSES = ("08", "53", "57")  # connection, resources, operator intervention
_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock


class Action(enum.Enum):
    """What the worker does with a message after its flow raised."""

    RELEASE = "release"
    DROP = "drop"
    RETRY = "retry"
    FAIL = "fail"
    GIVE_UP = "give_up"


@dataclass(frozen=True)
class Decision:
    """The policy's answer: the action, the delay before the message is seen again, why."""

    action: Action
    delay_s: int
    reason: str


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter: attempt n waits up to base * 2^(n-1), capped."""

    base_delay_s: float = 5.0
    max_delay_s: int = 900

    def backoff_s(self, receive_count: int, jitter: float) -> int:
        """The delay after the ``receive_count``-th receive; ``jitter`` is in [0, 1)."""
        ceiling = min(float(self.max_delay_s), self.base_delay_s * 2.0 ** max(0, receive_count - 1))
        # Full jitter, but never less than the base delay so a retry is never immediate.
        return max(1, round(min(ceiling, max(self.base_delay_s, ceiling * jitter))))

    def outage_backoff_s(self, receive_count: int, jitter: float) -> int:
        """The delay after a service failed (unreachable, throttling, restarting): growing
        four-fold and never under half its ceiling, so the receives a queue allows span
        minutes (5, 10-20, 40-80, 160-320 s with the defaults), longer than an ordinary
        outage or failover, instead of being used up in seconds."""
        ceiling = min(float(self.max_delay_s), self.base_delay_s * 4.0 ** max(0, receive_count - 1))
        delay = ceiling / 2 + ceiling / 2 * jitter
        return max(1, round(min(ceiling, max(self.base_delay_s, delay))))


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` is a failure of a service that may well pass (vs. a bug or bad data)."""
    if isinstance(error, TransientError):
        return True
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        return code in _THROTTLING_CODES or status >= 500 or status == 429
    if isinstance(error, EndpointConnectionError | ConnectionClosedError | ReadTimeoutError):
        return True
    if isinstance(error, asyncpg.PostgresError):
        sqlstate = str(getattr(error, "sqlstate", "") or "")
        return sqlstate in _TRANSIENT_SQLSTATES or sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES
    if isinstance(error, asyncpg.InterfaceError | InternalClientError):
        # "connection is closed", "connection has been released back to the pool", "cannot
        # switch to state 15": the server went away under a statement.
        return True
    return isinstance(error, ConnectionError | TimeoutError | asyncio.TimeoutError | BotoCoreError)


def decide(
    error: BaseException,
    receive_count: int,
    max_receive_count: int,
    policy: RetryPolicy,
    jitter: Callable[[], float] = random.random,
) -> Decision:
    """What to do with a message whose flow raised ``error`` on its ``receive_count``-th
    receive, for a queue that dead-letters after ``max_receive_count`` receives."""
    reason = describe(error)
    if isinstance(error, Interrupted):
        return Decision(Action.RELEASE, 0, reason)
    if isinstance(error, JobGone):
        return Decision(Action.DROP, 0, reason)
    if isinstance(error, NEVER_RETRIED):
        return Decision(Action.FAIL, 0, reason)
    transient = is_transient(error)
    if not transient:
        reason = f"unexpected error: {reason}"
    if receive_count >= max_receive_count:
        return Decision(Action.GIVE_UP, 0, reason)
    backoff = policy.outage_backoff_s if transient else policy.backoff_s
    return Decision(Action.RETRY, backoff(receive_count, jitter()), reason)
