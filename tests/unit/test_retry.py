"""The retry policy alone: every kind of error, every receive count."""

from __future__ import annotations

import asyncpg
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from worker.errors import (
    Interrupted,
    JobInvalid,
    ObjectMissing,
    PoisonMessage,
    ServiceUnavailable,
    UnsupportedFile,
)
from worker.reasons import describe
from worker.retry import NEVER_RETRIED, Action, RetryPolicy, decide, is_transient

POLICY = RetryPolicy(base_delay_s=5, max_delay_s=900)


def _client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "GetObject",
    )


@pytest.mark.parametrize(
    "error",
    [
        _client_error("SlowDown", 503),
        _client_error("ThrottlingException", 400),
        _client_error("InternalError", 500),
        _client_error("Whatever", 502),
        EndpointConnectionError(endpoint_url="http://s3"),
        ConnectionResetError("reset by peer"),
        TimeoutError(),
        asyncpg.exceptions.AdminShutdownError("terminating connection"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.SerializationError("could not serialize"),
        asyncpg.exceptions.DeadlockDetectedError("deadlock"),
        asyncpg.exceptions.ConnectionDoesNotExistError("closed"),
        ServiceUnavailable("S3 is down"),
    ],
)
def test_transient_errors_are_retried_with_backoff(error: BaseException) -> None:
    assert is_transient(error)
    decision = decide(
        error, receive_count=1, max_receive_count=5, policy=POLICY, jitter=lambda: 0.5
    )
    assert decision.action is Action.RETRY
    assert decision.delay_s >= POLICY.base_delay_s


@pytest.mark.parametrize(
    "error",
    [JobInvalid("no source"), ObjectMissing(), UnsupportedFile("a PNG"), PoisonMessage("x")],
)
def test_permanent_errors_fail_at_once_even_on_the_first_receive(error: BaseException) -> None:
    assert isinstance(error, NEVER_RETRIED)
    decision = decide(error, receive_count=1, max_receive_count=5, policy=POLICY)
    assert (decision.action, decision.delay_s) == (Action.FAIL, 0)
    assert decision.reason == str(error)


def test_not_found_from_s3_is_not_transient() -> None:
    assert not is_transient(_client_error("NoSuchKey", 404))
    assert not is_transient(asyncpg.exceptions.UniqueViolationError("dup"))


def test_unexpected_errors_are_retried_and_labelled() -> None:
    decision = decide(KeyError("email"), 1, 5, POLICY, jitter=lambda: 0.0)
    assert decision.action is Action.RETRY
    assert decision.reason == "unexpected error: KeyError: 'email'"


@pytest.mark.parametrize("error", [ServiceUnavailable("down"), RuntimeError("bug")])
def test_the_last_receive_gives_up(error: BaseException) -> None:
    assert decide(error, 4, 5, POLICY).action is Action.RETRY
    assert decide(error, 5, 5, POLICY).action is Action.GIVE_UP
    assert decide(error, 7, 5, POLICY).action is Action.GIVE_UP


def test_interrupted_releases_without_delay_whatever_the_count() -> None:
    for count in (1, 5, 50):
        decision = decide(Interrupted("worker shutting down"), count, 5, POLICY)
        assert (decision.action, decision.delay_s) == (Action.RELEASE, 0)


def test_backoff_grows_exponentially_and_is_capped() -> None:
    ceilings = [POLICY.backoff_s(count, jitter=0.999999) for count in range(1, 12)]
    assert ceilings[:5] == [5, 10, 20, 40, 80]
    assert max(ceilings) == 900 and ceilings[-1] == 900


def test_retries_after_a_service_failure_outlast_minutes_of_outage() -> None:
    # A queue that allows 5 receives retries 4 times: even the unluckiest jitter waits more
    # than three minutes in all (full jitter could use them up in 20 s).
    shortest = sum(POLICY.outage_backoff_s(count, jitter=0.0) for count in range(1, 5))
    longest = sum(POLICY.outage_backoff_s(count, jitter=0.999999) for count in range(1, 5))
    assert shortest >= 180 and longest <= 430
    decision = decide(ServiceUnavailable("down"), 3, 5, POLICY, jitter=lambda: 0.0)
    assert decision.delay_s == 40
    # Bugs keep the shorter schedule: a fixed release finishes them sooner.
    assert decide(KeyError("x"), 3, 5, POLICY, jitter=lambda: 0.0).delay_s == 5


def test_backoff_jitter_spreads_but_never_drops_below_the_base() -> None:
    delays = {POLICY.backoff_s(6, jitter=j / 10) for j in range(10)}
    assert min(delays) == 5 and max(delays) > 100 and len(delays) > 5


def test_reasons_say_what_happened_when_a_service_went_away() -> None:
    from asyncpg.exceptions._base import InternalClientError  # noqa: PLC0415

    restart = InternalClientError("cannot switch to state 15; another operation is in progress")
    assert is_transient(restart)
    assert describe(restart).startswith("the database connection was lost")
    released = asyncpg.InterfaceError("connection has been released back to the pool")
    assert describe(released).startswith("the database connection was lost")
    assert describe(asyncpg.exceptions.ConnectionDoesNotExistError("closed")).startswith(
        "the database connection was lost"
    )
    unreachable = EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
    assert describe(unreachable).startswith("S3/SQS could not be reached")
    assert decide(restart, 1, 5, POLICY).reason.startswith("the database connection was lost")
    # A new connection refused (asyncpg raises the socket's own error): the server is down.
    refused = ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")
    assert is_transient(refused)
    assert describe(refused) == (
        "a connection was refused (the server is down or not accepting connections):"
        " ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', 5432)"
    )


def test_describe_is_one_readable_line() -> None:
    assert describe(ObjectMissing()) == "The uploaded object does not exist in S3."
    assert describe(ValueError("bad\nsecond line")) == "ValueError: bad"
    assert describe(TimeoutError()) == "TimeoutError"
