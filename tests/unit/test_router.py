"""The routing table, row by row (DESIGN.md's table, plus CONSOLIDATING and retry)."""

from __future__ import annotations

import pytest

from worker.router import Route, route


@pytest.mark.parametrize(
    ("status", "has_staging", "action", "expected"),
    [
        # A finished job's redelivered message writes its exports if they are missing.
        ("COMPLETED", True, "process", Route.EXPORT),
        ("COMPLETED", False, "process", Route.ACKNOWLEDGE),
        ("COMPLETED", False, "reprocess", Route.ACKNOWLEDGE),
        ("COMPLETED", True, "export", Route.EXPORT),
        ("NEEDS_REVIEW", True, "export", Route.EXPORT),
        # An export message never starts another flow.
        ("PENDING", True, "export", Route.ACKNOWLEDGE),
        ("FAILED", True, "export", Route.ACKNOWLEDGE),
        ("CONSOLIDATING", True, "export", Route.ACKNOWLEDGE),
        ("NEEDS_REVIEW", False, "export", Route.ACKNOWLEDGE),
        ("CANCELLED", True, "process", Route.ACKNOWLEDGE),
        ("CANCELLED", False, "retry", Route.ACKNOWLEDGE),
        # A job in review is judged again only on a request not yet served; any other
        # message of it (a redelivery) only writes missing exports.
        ("NEEDS_REVIEW", True, "process", Route.EXPORT),
        ("NEEDS_REVIEW", True, "reprocess", Route.EXPORT),
        ("NEEDS_REVIEW", False, "reprocess", Route.ACKNOWLEDGE),
        ("PENDING", False, "process", Route.INITIAL),
        ("PROCESSING", False, "process", Route.INITIAL),
        ("PENDING", True, "process", Route.INITIAL_RESUME),
        ("PROCESSING", True, "process", Route.INITIAL_RESUME),
        # A stale reprocess message never re-runs a job in another state.
        ("PROCESSING", True, "reprocess", Route.INITIAL_RESUME),
        ("CONSOLIDATING", True, "process", Route.CONSOLIDATE),
        ("FAILED", True, "process", Route.ACKNOWLEDGE),
        ("FAILED", False, "reprocess", Route.ACKNOWLEDGE),
        ("FAILED", False, "retry", Route.INITIAL),
        ("FAILED", True, "retry", Route.INITIAL_RESUME),
    ],
)
def test_route(status: str, has_staging: bool, action: str, expected: Route) -> None:
    assert route(status, has_staging, action) is expected  # type: ignore[arg-type]


def test_a_pending_reprocess_request_reprocesses_and_nothing_else_does() -> None:
    assert route("NEEDS_REVIEW", True, "reprocess", reprocess_pending=True) is Route.REPROCESS
    assert route("NEEDS_REVIEW", True, "process", reprocess_pending=True) is Route.EXPORT
    assert route("NEEDS_REVIEW", False, "reprocess", reprocess_pending=True) is Route.ACKNOWLEDGE
    # A request that came before the job's current state never re-runs it.
    assert route("COMPLETED", True, "reprocess", reprocess_pending=True) is Route.EXPORT


def test_an_unknown_status_is_an_error_not_a_guess() -> None:
    with pytest.raises(ValueError, match="unknown job status"):
        route("ARCHIVED", True)


def test_only_acknowledge_runs_no_flow() -> None:
    assert [r for r in Route if r.flow is None] == [Route.ACKNOWLEDGE]
